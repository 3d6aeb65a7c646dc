"""In a real Chromium: a Japanese tenant admin uploads a knowledge file, gets a
cited answer and opens the data page, all in Japanese; a Korean employee chats,
sees the cited answer and the data page in Korean, then switches language from
the header. The assertions are on visible translated text, also text written by
static/js (through the /jsi18n/ catalog), not only on lang attributes.
Screenshots: test-output/<test name>/."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.members.models import User
from tenants.members.services import create_member
from tests.knowledge.fixtures_documents import PdfPage, make_pdf
from tests.support.accounts import ADMIN_EMAIL, PASSWORD, log_in_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]

EMPLOYEE = "employee@example.com"
FACT = "The heron parking garage opens at 6:45 every weekday."
QUESTION = "When does the heron parking garage open?"


def ask(page, text: str):
    page.fill("#composer-text", text)
    page.click("#send-button")
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    return answer


def test_a_japanese_admin_and_a_korean_employee_use_the_product_in_their_language(
        make_client, web_server, celery_worker, model, open_page, output_dir):
    result = make_client("i18n")
    with schema_context(result.client.schema_name):
        create_member(email=EMPLOYEE, password=PASSWORD)
        User.objects.filter(email=ADMIN_EMAIL).update(language="ja")
        User.objects.filter(email=EMPLOYEE).update(language="ko")
    base_url = web_server.url(result.domain.domain)

    # --- The Japanese tenant admin: knowledge upload, cited answer, data page.
    admin = open_page(timeout=30_000)
    log_in_page(admin, base_url, ADMIN_EMAIL, notice_button="確認しました")
    expect(admin.locator("html")).to_have_attribute("lang", "ja")
    admin.click(".topbar >> text=ナレッジ")
    expect(admin.locator("h1")).to_have_text("ナレッジ")
    expect(admin.locator("#dropzone")).to_contain_text("ここにファイルをドロップ")
    pdf = make_pdf([PdfPage(lines=["Facilities handbook."]),
                    PdfPage(lines=[FACT], bookmarks=["Parking"])])
    admin.set_input_files("#file-input", files=[
        {"name": "facilities.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    upload_line = admin.locator("#uploads li").first
    expect(upload_line).to_have_attribute("data-state", "ready")
    # Written by knowledge.js from the catalog.
    expect(upload_line).to_contain_text("準備完了: チャンク 2 件、2 ページ")
    row = admin.locator("tr.kfile", has_text="facilities.pdf")
    expect(row.locator(".kfile-status")).to_have_text(re.compile("準備完了"))
    expect(row.locator(".kfile-actions")).to_contain_text("再インデックス")
    admin.screenshot(path=str(output_dir / "ja-admin-knowledge.png"), full_page=True)

    admin.click(".topbar >> text=チャット")
    expect(admin.get_by_role("link", name="+ 新しいチャット")).to_be_visible()
    expect(admin.locator("#composer-text")).to_have_attribute(
        "placeholder", re.compile("へのメッセージ…$"))
    answer = ask(admin, QUESTION)
    expect(answer.locator(".citations")).to_contain_text("出典:")
    expect(answer.locator(".citation").first).to_have_text("[1] facilities.pdf、2 ページ")
    expect(answer.locator(".act-regenerate")).to_have_text("再生成")
    expect(answer.locator(".act-copy")).to_have_text("コピー")
    admin.screenshot(path=str(output_dir / "ja-admin-cited-answer.png"), full_page=True)
    sent = model.requests("/v1/chat/completions")[-1]["body"]
    assert any(FACT in message["content"] for message in sent["messages"])

    admin.click(".topbar >> text=あなたのデータ")
    expect(admin.locator("h1")).to_have_text("このワークスペースのデータ")
    facts = admin.locator("table.facts")
    expect(facts).to_contain_text("モデル送信前のマスキング")
    expect(facts).to_contain_text("保存されている会話")
    expect(admin.get_by_role("link", name="自分のデータをダウンロード(JSON)")).to_be_visible()
    admin.screenshot(path=str(output_dir / "ja-admin-data-page.png"), full_page=True)

    # --- The Korean employee: chat with a cited answer, the data page, the picker.
    employee = open_page(timeout=30_000)
    log_in_page(employee, base_url, EMPLOYEE, notice_button="확인했습니다")
    expect(employee.locator("html")).to_have_attribute("lang", "ko")
    expect(employee.locator(".topbar >> text=지식 자료")).to_have_count(0)  # admins only
    expect(employee.get_by_role("link", name="+ 새 채팅")).to_be_visible()
    # Each language is offered in its own script.
    expect(employee.locator(".language-picker option")).to_have_text(
        ["워크스페이스 기본값", "English", "한국어", "日本語"])
    expect(employee.locator("#send-button")).to_have_text("보내기")
    # Only spaces: refused by chat.js itself, in Korean.
    employee.fill("#composer-text", "   ")
    employee.click("#send-button")
    expect(employee.locator("#composer-error")).to_have_text("먼저 메시지를 입력하세요.")
    answer = ask(employee, QUESTION)
    expect(answer.locator(".citation").first).to_have_text("[1] facilities.pdf, 2쪽")
    expect(answer.locator(".act-regenerate")).to_have_text("다시 생성")
    expect(answer.locator(".act-stop")).to_have_text("중지")
    expect(employee.locator(".conversation-list li.active")).to_have_count(1)
    employee.screenshot(path=str(output_dir / "ko-employee-cited-answer.png"), full_page=True)

    employee.click(".topbar >> text=내 데이터")
    expect(employee.locator("h1")).to_have_text("이 워크스페이스의 데이터")
    expect(employee.locator("table.facts")).to_contain_text("모델 전송 전 마스킹")
    expect(employee.get_by_role("button", name="내 대화 모두 삭제")).to_be_visible()
    employee.screenshot(path=str(output_dir / "ko-employee-data-page.png"), full_page=True)

    # The header's picker saves the choice at once (page.js submits on change).
    employee.select_option(".language-picker select", "ja")
    expect(employee.locator("html")).to_have_attribute("lang", "ja")
    expect(employee.locator("h1")).to_have_text("このワークスペースのデータ")
    expect(employee.locator(".messages")).to_contain_text("言語の設定を保存しました。")
    employee.screenshot(path=str(output_dir / "ko-employee-switched-to-ja.png"), full_page=True)
    with schema_context(result.client.schema_name):
        assert User.objects.get(email=EMPLOYEE).language == "ja"
    assert not admin.js_errors and not employee.js_errors
