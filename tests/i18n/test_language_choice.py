"""Which language a person sees, through the real web server: their saved
choice, else their workspace's default (set by a tenant admin), else their
browser's Accept-Language. Messages from services, the JavaScript catalog and
e-mails follow the same choice."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import pytest
from django_tenants.utils import schema_context

from tenants.members.models import User
from tenants.members.services import create_member
from tests.support.accounts import PASSWORD
from tests.support.site import Site

EMPLOYEE = "employee@example.com"


@dataclass
class Workspace:
    client: object
    base_url: str


@pytest.fixture
def workspace(make_client, web_server) -> Workspace:
    result = make_client("lang")
    with schema_context(result.client.schema_name):
        create_member(email=EMPLOYEE, password=PASSWORD)
    return Workspace(client=result.client, base_url=web_server.url(result.domain.domain))


def browser(workspace, accept_language: str = "en") -> Site:
    site = Site(workspace.base_url)
    site.http.headers["Accept-Language"] = accept_language
    return site


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.text).group(1)


def save_language(site: Site, language: str, *, field: str = "language"):
    return site.http.post("/accounts/language/", data={
        field: language, "csrfmiddlewaretoken": site.csrf()})


def test_nobody_chose_so_the_browser_language_is_used(workspace):
    korean = browser(workspace, "ko-KR,ko;q=0.9,en;q=0.5").http.get("/accounts/login/")
    assert html_lang(korean) == "ko"
    assert korean.headers["Content-Language"] == "ko"
    assert "비밀번호를 잊으셨나요?" in korean.text
    japanese = browser(workspace, "ja-JP,ja;q=0.9").http.get("/accounts/login/")
    assert html_lang(japanese) == "ja"
    assert "パスワードをお忘れですか?" in japanese.text
    english = browser(workspace, "fr-FR,fr;q=0.9").http.get("/accounts/login/")
    assert html_lang(english) == "en"
    assert "Forgot your password?" in english.text


def test_a_tenant_admin_sets_the_workspace_default_over_the_browser(workspace):
    admin = browser(workspace, "en").login("admin@example.com", PASSWORD)
    response = save_language(admin, "ja", field="default_language")
    assert response.status_code == 302
    # Everyone without a choice of their own now sees Japanese, whatever the browser says.
    employee = browser(workspace, "ko").login(EMPLOYEE, PASSWORD)
    page = employee.http.get("/")
    assert html_lang(page) == "ja"
    assert "新しいチャット" in page.text
    assert "ログイン" in browser(workspace, "ko").http.get("/accounts/login/").text
    # An employee cannot change the workspace's default.
    refused = save_language(employee, "ko", field="default_language")
    assert refused.status_code == 403
    workspace.client.refresh_from_db()
    assert workspace.client.default_language == "ja"


def test_a_saved_choice_wins_and_blank_follows_the_workspace(workspace):
    workspace.client.default_language = "ja"
    workspace.client.save(update_fields=["default_language"])
    employee = browser(workspace, "en").login(EMPLOYEE, PASSWORD)
    # The header's picker posts the choice with the page to come back to.
    response = employee.http.post("/accounts/language/", data={
        "language": "ko", "next": "/?q=x", "csrfmiddlewaretoken": employee.csrf()})
    assert response.status_code == 302 and response.headers["Location"] == "/?q=x"
    with schema_context(workspace.client.schema_name):
        assert User.objects.get(email=EMPLOYEE).language == "ko"
    page = employee.http.get("/")
    assert html_lang(page) == "ko"
    assert "새 채팅" in page.text and "대화 검색" in page.text
    assert '<option value="ko" lang="ko" selected>한국어</option>' in page.text
    # The confirmation is already in the new language.
    assert "언어 설정을 저장했습니다." in page.text
    # Another person's session is not affected by it.
    assert html_lang(browser(workspace, "en").login("admin@example.com", PASSWORD)
                     .http.get("/")) == "ja"
    # Back to the workspace default.
    save_language(employee, "")
    assert html_lang(employee.http.get("/")) == "ja"


def test_an_unknown_language_is_a_form_error_not_a_crash(workspace):
    employee = browser(workspace, "ko").login(EMPLOYEE, PASSWORD)
    response = save_language(employee, "xx")
    assert response.status_code == 200
    assert 'class="error"' in response.text
    # Nothing was saved; never an external address as `next`.
    response = employee.http.post("/accounts/language/", data={
        "language": "ja", "next": "https://evil.example/", "csrfmiddlewaretoken": employee.csrf()})
    assert response.headers["Location"] == "/accounts/language/"


def test_service_messages_and_the_script_catalog_speak_the_persons_language(workspace):
    employee = browser(workspace, "en").login(EMPLOYEE, PASSWORD)
    save_language(employee, "ko")
    refused = employee.send("   ")
    assert refused.status_code == 400
    assert refused.json()["error"] == "먼저 메시지를 입력하세요."
    catalog = employee.http.get("/jsi18n/?l=ko")
    assert catalog.status_code == 200
    assert catalog.headers["Content-Type"].startswith("text/javascript")
    # "Regenerate", used by static/js/chat.js (the catalog is JSON: \\u escapes).
    assert '"Regenerate": ' + json.dumps("다시 생성") in catalog.text
    save_language(employee, "ja")
    assert employee.send("   ").json()["error"] == "先にメッセージを入力してください。"
    assert '"Regenerate": ' + json.dumps("再生成") in employee.http.get("/jsi18n/?l=ja").text


def test_the_data_page_is_in_the_persons_language(workspace):
    admin = browser(workspace, "en").login("admin@example.com", PASSWORD)
    save_language(admin, "ja")
    page = admin.http.get("/workspace-data/")
    assert page.status_code == 200
    assert "保存されている会話" in page.text
    assert "未実行" in page.text  # "Never run": no purge yet


@pytest.mark.worker
def test_the_invitation_email_is_in_the_workspaces_language(
        workspace, celery_worker, worker_mail_dir):
    workspace.client.default_language = "ko"
    workspace.client.save(update_fields=["default_language"])
    admin = browser(workspace, "en").login("admin@example.com", PASSWORD)
    response = admin.http.post("/accounts/members/", data={
        "email": "newcomer@example.com", "role": "member",
        "csrfmiddlewaretoken": admin.csrf()})
    assert response.status_code == 302
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mails = [p.read_bytes().decode("utf-8", "replace") for p in worker_mail_dir.glob("*.log")]
        found = [m for m in mails if "newcomer@example.com" in m]
        if found:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("no invitation e-mail within 30 s")
    mail = found[-1]
    assert "안녕하세요." in mail
    assert "아래 링크에서 비밀번호를 정한 뒤 로그인하세요." in mail
    assert "admin@example.com 님이 TuneAIBot의" in mail


def test_a_refused_upload_says_why_in_the_persons_language(workspace):
    admin = browser(workspace, "en").login("admin@example.com", PASSWORD)

    def upload(name: str, data: bytes):
        return admin.http.post("/knowledge/upload/", files={"file": (name, data)},
                               headers={"X-CSRFToken": admin.csrf(),
                                        "Accept": "application/json"})

    english = upload("notes.txt", b"")
    assert english.status_code == 400
    assert english.json()["error"].startswith("The file is empty.")
    save_language(admin, "ko")
    korean = upload("notes.txt", b"")
    assert korean.json() == {"error": "빈 파일입니다. 올바른 파일을 선택했는지 확인한 뒤 "
                                      "다시 업로드하세요.", "code": "empty"}
    save_language(admin, "ja")
    japanese = upload("photo.exe", b"MZ\x90\x00")
    assert japanese.status_code == 400
    assert japanese.json()["error"].startswith("この種類のファイルは読み込めません。")


def test_a_suspended_workspace_says_so_in_the_browsers_language(workspace):
    from tenants.services import set_client_status

    set_client_status(client=workspace.client, status="suspended")
    page = browser(workspace, "ja,en;q=0.5").http.get("/")
    assert page.status_code == 403
    assert "このワークスペースは利用停止中です" in page.text
