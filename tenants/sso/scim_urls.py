from django.urls import path

from tenants.sso import scim_views

app_name = "scim"
urlpatterns = [
    path("ServiceProviderConfig", scim_views.service_provider_config,
         name="service-provider-config"),
    path("ResourceTypes", scim_views.resource_types, name="resource-types"),
    path("Schemas", scim_views.schemas, name="schemas"),
    path("Users", scim_views.users, name="users"),
    path("Users/<str:user_id>", scim_views.user_detail, name="user"),
]
