"""Web UI routes (rate paintings, see recommendations)."""

app_name = "web"
urlpatterns: list = []
