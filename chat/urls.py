from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.chat_home, name="home"),
    path("c/<int:conversation_id>/", views.conversation_detail, name="conversation"),
    path("send/", views.send, name="send-new"),
    path("c/<int:conversation_id>/send/", views.send, name="send"),
    path("c/<int:conversation_id>/rename/", views.rename, name="rename"),
    path("c/<int:conversation_id>/delete/", views.delete, name="delete"),
    path("messages/<int:message_id>/show/", views.message_show, name="message-show"),
    path("answers/<int:message_id>/", views.answer_detail, name="answer"),
    path("answers/<int:message_id>/stream/", views.answer_stream, name="answer-stream"),
    path("answers/<int:message_id>/stop/", views.answer_stop, name="answer-stop"),
    path("answers/<int:message_id>/regenerate/", views.answer_regenerate,
         name="answer-regenerate"),
    path("answers/<int:message_id>/feedback/", views.answer_feedback, name="answer-feedback"),
    path("settings/bot/", views.bot_settings, name="bot-settings"),
    path("settings/bot/test/", views.bot_test_connection, name="bot-test"),
    path("settings/feedback/", views.feedback_review, name="feedback"),
    path("settings/feedback/<int:message_id>/", views.feedback_detail, name="feedback-detail"),
    path("settings/prompts/", views.prompt_library, name="prompts"),
    path("settings/prompts/<int:prompt_id>/", views.prompt_edit, name="prompt-edit"),
    path("settings/prompts/<int:prompt_id>/delete/", views.prompt_delete, name="prompt-delete"),
    # A file attached to one conversation (paths under knowledge/ as before).
    path("knowledge/attach/", views.attach, name="attach-new"),
    path("knowledge/c/<int:conversation_id>/attach/", views.attach, name="attach"),
    path("knowledge/c/<int:conversation_id>/attachments/", views.attachments,
         name="attachments"),
]
