"""DRF endpoints (needs djangorestframework: pip install django-upscope[drf])."""
