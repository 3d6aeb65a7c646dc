"""Platform staff edit the security overview here (platform site admin)."""

from django.contrib import admin

from compliance.models import OverviewLink, OverviewReview, OverviewSection


@admin.register(OverviewSection)
class OverviewSectionAdmin(admin.ModelAdmin):
    list_display = ["order", "title", "slug"]
    list_display_links = ["title"]
    list_editable = ["order"]
    ordering = ["order"]
    prepopulated_fields = {"slug": ["title"]}


@admin.register(OverviewLink)
class OverviewLinkAdmin(admin.ModelAdmin):
    list_display = ["order", "name", "url"]
    list_display_links = ["name"]
    list_editable = ["order"]
    ordering = ["order"]


@admin.register(OverviewReview)
class OverviewReviewAdmin(admin.ModelAdmin):
    list_display = ["last_reviewed", "reviewed_by"]
