"""Upgrades keep data: each past release's database, migrated to HEAD.

Every fixture in tests/upgrade/fixtures/ is a dump of a populated database
made by that release's own code (devtools/record_upgrade_fixture.py), with
its row counts. Each is restored into a fresh database, `migrate_all` runs
there as an operator would run it (a separate process, whatever migrations
exist at HEAD), and then: no row is lost, every earlier conversation is
visible to its owner over HTTP, search finds it, a new answer streams from
the real worker and the local model server, and each client's audit chain
verifies.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from devtools.record_upgrade_fixture import count_rows
from tests.conftest import OUTPUT, WebServer, WorkerProcess
from tests.support.site import Site, text_of
from tests.upgrade.databases import FIXTURES, drop, load, manage, release_env, restore

pytestmark = pytest.mark.worker

# Tables a later migration renamed (old name -> new name). None so far: the
# knowledge app kept its chat_knowledge* tables when it moved out of chat.
RENAMED: dict[str, str] = {}
# The first release with message versions (chat 0011 at release time).
VERSIONS_RELEASE = "2026-12-07"


@dataclass
class Upgraded:
    record: dict
    url: str
    env: dict[str, str]
    migrate: object  # subprocess.CompletedProcess

    def manage(self, *args: str):
        return manage(self.env, *args)


@pytest.fixture(scope="module", params=FIXTURES, ids=lambda path: path.stem)
def upgraded(request, worker_env) -> Upgraded:
    """The release's database restored and migrated to HEAD by `migrate_all`."""
    OUTPUT.mkdir(exist_ok=True)
    record = load(request.param)
    database, url = restore(request.param)
    env = release_env(record, url, worker_env)
    migrate = manage(env, "migrate_all")
    (OUTPUT / f"upgrade-{request.param.stem}-migrate.log").write_text(
        migrate.stdout + migrate.stderr)
    yield Upgraded(record, url, env, migrate)
    drop(database)


@pytest.fixture(scope="module")
def running(upgraded, model_server):
    """The upgraded database served by a real web server and worker."""
    assert upgraded.migrate.returncode == 0, upgraded.migrate.stderr[-3000:]
    stem = upgraded.record["release"]
    worker = WorkerProcess(env=upgraded.env, log_path=OUTPUT / f"upgrade-{stem}-worker.log")
    worker.start()
    web = WebServer(env=upgraded.env, log_path=OUTPUT / f"upgrade-{stem}-web.log").start()
    yield web
    web.stop()
    worker.stop()


def test_fixtures_exist():
    assert any(path.stem == "2026-11-30" for path in FIXTURES), FIXTURES


def test_migrate_all_brings_the_release_to_head(upgraded):
    assert upgraded.migrate.returncode == 0, (
        f"migrate_all failed on the {upgraded.record['release']} database:\n"
        + upgraded.migrate.stderr[-3000:])
    plan = upgraded.manage("showmigrations", "--plan")
    assert plan.returncode == 0 and "[ ]" not in plan.stdout, plan.stdout[-2000:]


def test_no_row_is_lost(upgraded):
    assert upgraded.migrate.returncode == 0, upgraded.migrate.stderr[-3000:]
    after = count_rows(upgraded.url)
    lost = []
    for schema, tables in upgraded.record["rows"].items():
        for table, before in tables.items():
            now = after.get(schema, {}).get(RENAMED.get(table, table))
            if now is None or now < before:
                lost.append(f"{schema}.{table}: {before} -> {now}")
    assert not lost, "rows lost in the upgrade:\n" + "\n".join(lost)


def test_message_versions_follow_the_old_replies(upgraded):
    """Every answer follows its question and no question points at a later
    answer; in a release before message versions (chat 0011's data step),
    what was shown stays shown."""
    assert upgraded.migrate.returncode == 0, upgraded.migrate.stderr[-3000:]
    shown_rule = ("OR chosen = superseded"
                  if upgraded.record["release"] < VERSIONS_RELEASE else "")
    with psycopg.connect(upgraded.url) as conn:
        for client in upgraded.record["facts"]["clients"]:
            schema = sql.Identifier(client["schema"])
            wrong = conn.execute(sql.SQL(
                "SELECT count(*) FROM {}.chat_message WHERE "
                "(role = 'assistant' AND parent_id IS DISTINCT FROM reply_to_id) "
                "OR (role = 'user' AND parent_id > id) " + shown_rule).format(
                    schema)).fetchone()[0]
            assert wrong == 0, f"{wrong} messages of {client['slug']} lost their place"


def _role(upgraded, client: dict, email: str) -> str:
    with psycopg.connect(upgraded.url) as conn:
        return conn.execute(sql.SQL("SELECT role FROM {}.members_user WHERE email = %s").format(
            sql.Identifier(client["schema"])), [email]).fetchone()[0]


# Authenticator apps the upgraded tenant admins set up: (release, client, e-mail) -> secret.
_APPS: dict[tuple, str] = {}


def sign_in(upgraded, running, client: dict, email: str) -> Site:
    """Sign in as a person of the upgraded client does. Upgraded clients get
    the production default of two-step sign-in (tenant admins confirm with a
    second factor): a tenant admin sets up an authenticator app the first
    time, then confirms with its codes; members are never asked."""
    site = Site(running.url(client["host"])).login(email, upgraded.record["facts"]["password"],
                                                   second_step=True)
    if site.next_step.startswith("/accounts/two-step/"):
        assert _role(upgraded, client, email) == "admin", (email, site.next_step)
        key = (upgraded.record["release"], client["slug"], email)
        if site.next_step.startswith("/accounts/two-step/verify/"):  # set up before
            site.confirm_with_app(_APPS[key])
        else:
            _APPS[key] = site.set_up_authenticator_app()
    return site


def test_people_sign_in_and_see_their_history(upgraded, running):
    record = upgraded.record
    for client in record["facts"]["clients"]:
        sites: dict[str, Site] = {}
        for conversation in client["conversations"]:
            owner = conversation["owner"]
            if owner not in sites:
                sites[owner] = sign_in(upgraded, running, client, owner)
            site = sites[owner]
            page = site.http.get(f"/c/{conversation['id']}/")
            assert page.status_code == 200, (client["slug"], conversation, page.status_code)
            assert conversation["last_answer"] in page.text
            found = site.http.get("/", params={"q": conversation["title"].split()[-1]})
            assert found.status_code == 200 and conversation["title"] in found.text


def test_a_new_answer_in_an_old_conversation(upgraded, running, model_server):
    model_server.reset()
    model_server.clear()
    record = upgraded.record
    client = record["facts"]["clients"][0]
    conversation = client["conversations"][0]
    site = sign_in(upgraded, running, client, conversation["owner"])
    sent = site.ask("Is that still true after the upgrade?", conversation["id"])
    events = site.events(sent["answer"]["stream_url"], timeout=60)
    assert events[-1].event == "done", events[-3:]
    assert text_of(events).startswith("You said: Is that still true after the upgrade?")
    history = model_server.requests("/v1/chat/completions")[-1]["body"]["messages"]
    assert any(conversation["last_answer"] in str(m.get("content")) for m in history), \
        "the earlier answers of the conversation are sent as its history"


def test_audit_chains_verify(upgraded, running):
    for client in upgraded.record["facts"]["clients"]:
        result = upgraded.manage("verify_audit", client["slug"])
        assert result.returncode == 0, result.stderr
        assert "chain intact" in result.stdout


def test_staff_sign_in_on_the_platform_site(upgraded, running):
    record = upgraded.record
    base = upgraded.env["BASE_DOMAIN"]
    site = Site(running.url(base))
    site.http.get("/admin/login/")
    response = site.http.post("/admin/login/?next=/admin/", data={
        "username": record["facts"]["staff"], "password": record["facts"]["password"],
        "csrfmiddlewaretoken": site.http.cookies["csrftoken"], "next": "/admin/"})
    assert response.status_code == 302 and response.headers["location"] == "/admin/", \
        response.status_code


def test_an_answer_finds_the_old_library(upgraded, running, model_server):
    """The passages indexed by the old release are found for a new question
    (full-text search over the rebuilt search columns) and given to the model."""
    model_server.reset()
    model_server.clear()
    record = upgraded.record
    client = record["facts"]["clients"][1]
    site = sign_in(upgraded, running, client, client["admin"])
    sent = site.ask(f"Who do I ask first about the {client['slug']} expense report rules?")
    events = site.events(sent["answer"]["stream_url"], timeout=60)
    assert events[-1].event == "done", events[-3:]
    body = model_server.requests("/v1/chat/completions")[-1]["body"]
    sent_text = " ".join(str(m.get("content")) for m in body["messages"])
    assert f"rules of {client['slug']}" in sent_text and "ask your manager first" in sent_text
