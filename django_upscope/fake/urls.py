app_name = "upscope_fake"
urlpatterns: list = []
