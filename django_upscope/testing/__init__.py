"""What our users import in their tests: the pytest plugin and factories."""
