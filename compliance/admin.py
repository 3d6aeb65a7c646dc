"""Platform staff edit the security overview here (platform site admin): each
language's version on its own, with its own last-reviewed date."""

from django.contrib import admin

from compliance.models import OverviewLink, OverviewReview, OverviewSection


@admin.register(OverviewSection)
class OverviewSectionAdmin(admin.ModelAdmin):
    list_display = ["order", "title", "language", "slug"]
    list_display_links = ["title"]
    list_editable = ["order"]
    list_filter = ["language"]
    ordering = ["language", "order"]
    search_fields = ["title", "body", "slug"]
    fields = ["language", "title", "slug", "order", "body"]
    prepopulated_fields = {"slug": ["title"]}


@admin.register(OverviewLink)
class OverviewLinkAdmin(admin.ModelAdmin):
    list_display = ["order", "name", "language", "url"]
    list_display_links = ["name"]
    list_editable = ["order"]
    list_filter = ["language"]
    ordering = ["language", "order"]
    search_fields = ["name", "description", "url"]


@admin.register(OverviewReview)
class OverviewReviewAdmin(admin.ModelAdmin):
    list_display = ["language", "last_reviewed", "reviewed_by"]
    list_display_links = ["language"]
    list_editable = ["last_reviewed", "reviewed_by"]
    list_filter = ["language"]
    ordering = ["language"]
