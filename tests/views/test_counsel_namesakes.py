"""A counsellor with two clients called Sam, over HTTP with CSRF on: every page that names a client
tells the two apart (the label the counsellor gave, since when they share, the client ID), by
accessible name too, while a client whose name is nobody else's carries only their label; and the
pages run no query more for it."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import CounsellorLink, Role, User
from app.timefmt import DEFAULT_TIMEZONE, format_date, site_zone
from tests.conftest import create_user, csrf_token, lesson_slugs, login
from tests.views.test_query_counts import queries_for

CLIENT_LINK = re.compile(r"^/counsel/clients/(\d+)$")


class Names(HTMLParser):
    """Each client link's accessible name (its aria-label, or its text) by client id, and each
    progress bar's aria-label."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[int, list[str]] = {}
        self.progress: list[str] = []
        self._open: list[str] | None = None
        self._label: str | None = None
        self._id = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and (found := CLIENT_LINK.match((attributes.get("href") or "").split("?")[0])):
            self._id, self._open, self._label = int(found.group(1)), [], attributes.get("aria-label")
        elif tag == "progress":
            self.progress.append(attributes.get("aria-label") or "")

    def handle_data(self, data):
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            name = self._label or " ".join("".join(self._open).split())
            self.links.setdefault(self._id, []).append(name)
            self._open = None


def names_on(html: str) -> Names:
    parser = Names()
    parser.feed(html)
    return parser


@pytest.fixture
def counsellor(app, course) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def clients(app, counsellor, client) -> dict[str, int]:
    """Sam (labelled "Tuesday group"), another Sam (no label) and Alex (labelled), each sharing
    through an invitation accepted over HTTP; Sam and Alex on the same day."""
    ids = {
        "sam": create_user(app, "sam1@example.org", name="Sam"),
        "other_sam": create_user(app, "sam2@example.org", name="Sam"),
        "alex": create_user(app, "alex@example.org", name="Alex"),
    }
    labels = {"sam": "Tuesday group", "other_sam": "", "alex": "Referred by Dr Ng"}
    for who, learner_id in ids.items():
        login(client, "casey@example.org")
        form = {"csrf_token": csrf_token(client, "/counsel/invitations"), "label": labels[who], "email": ""}
        invitation_page = client.get(client.post("/counsel/invitations", data=form).headers["Location"])
        code = re.search(r"/join/([A-Z0-9-]+)", invitation_page.get_data(as_text=True)).group(1)
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/counsel/")})
        with app.app_context():
            email = db.session.get(User, learner_id).email
        login(client, email)
        join = f"/join/{code}"
        answered = client.post(join, data={"csrf_token": csrf_token(client, join), "decision": "accept"})
        assert answered.status_code in (200, 302), answered.status_code
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    with app.app_context():
        links = db.session.scalars(select(CounsellorLink).where(CounsellorLink.counsellor_id == counsellor)).all()
        assert {link.learner_id: link.label for link in links} == {
            ids["sam"]: "Tuesday group",
            ids["other_sam"]: None,
            ids["alex"]: "Referred by Dr Ng",
        }
    login(client, "casey@example.org")
    return ids


def since(app, learner_id: int) -> str:
    with app.app_context():
        created = db.session.scalar(select(CounsellorLink.created_at).where(CounsellorLink.learner_id == learner_id))
    return format_date(created, site_zone(app.config.get("SITE_TIMEZONE") or DEFAULT_TIMEZONE))


def test_the_dashboard_tells_the_two_sams_apart_and_labels_alex(client, app, clients):
    page = client.get("/counsel/")
    assert page.status_code == 200
    found = names_on(page.get_data(as_text=True))
    sam, other_sam, alex = clients["sam"], clients["other_sam"], clients["alex"]

    assert found.links == {
        alex: ["Alex (Your label: Referred by Dr Ng)"],
        sam: [f"Sam (Your label: Tuesday group · sharing since {since(app, sam)} · client ID {sam})"],
        other_sam: [f"Sam (sharing since {since(app, other_sam)} · client ID {other_sam})"],
    }
    # Each progress bar is named for its client too: a screen reader's list of them tells them apart.
    assert len(set(found.progress)) == len(found.progress) == 3
    assert f"Sam (sharing since {since(app, other_sam)} · client ID {other_sam}): 0% complete" in found.progress


def test_a_filter_showing_one_sam_still_says_which(client, app, clients):
    found = names_on(client.get("/counsel/?q=sam&sort=progress").get_data(as_text=True))
    assert all("client ID" in name for [name] in found.links.values()) and len(found.links) == 2
    with app.app_context():  # Alex becomes "sam" too: three clients of one name, any case
        db.session.execute(update(User).where(User.id == clients["alex"]).values(display_name="sam"))
        db.session.commit()
    found = names_on(client.get("/counsel/").get_data(as_text=True))
    alex = clients["alex"]
    assert found.links[alex] == [
        f"sam (Your label: Referred by Dr Ng · sharing since {since(app, alex)} · client ID {alex})"
    ]


def test_the_csv_gives_each_clients_label_since_and_id(client, app, clients):
    rows = list(csv.reader(io.StringIO(client.get("/counsel/clients.csv").get_data().decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[-3:] == ["Your label", "Sharing since (UTC)", "Client ID"]
    got = {(row[0], row[-3], row[-1]) for row in body}
    assert got == {
        ("Alex", "Referred by Dr Ng", str(clients["alex"])),
        ("Sam", "Tuesday group", str(clients["sam"])),
        ("Sam", "", str(clients["other_sam"])),
    }
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[-2]) for row in body)


def test_the_client_page_attempts_page_and_stop_page_name_the_client_apart(client, app, clients):
    sam, other_sam, alex = clients["sam"], clients["other_sam"], clients["alex"]
    notes = f"sharing since {since(app, other_sam)} · client ID {other_sam}"
    page = client.get(f"/counsel/clients/{other_sam}").get_data(as_text=True)
    assert f"<title>Sam ({notes})" in page
    assert f'<p class="client-notes-line">{notes}</p>' in page  # under the heading, printed too
    labelled = client.get(f"/counsel/clients/{sam}").get_data(as_text=True)
    assert "Your label: Tuesday group · sharing since" in labelled
    alex_page = client.get(f"/counsel/clients/{alex}").get_data(as_text=True)
    assert '<p class="client-notes-line">Your label: Referred by Dr Ng</p>' in alex_page
    assert "client ID" not in alex_page  # nobody else is called Alex: the name and label are enough

    lesson = lesson_slugs(app)[0]
    attempts = client.get(f"/counsel/clients/{other_sam}/lessons/{lesson}/attempts").get_data(as_text=True)
    assert f'<p class="client-notes-line">{notes}</p>' in attempts
    assert names_on(attempts).links == {other_sam: [f"Sam ({notes})"]}  # the breadcrumb back

    stop = client.get(f"/counsel/clients/{sam}/stop").get_data(as_text=True)
    assert f"Your label: Tuesday group · sharing since {since(app, sam)} · client ID {sam}" in stop
    ended = client.post(
        f"/counsel/clients/{sam}/stop",
        data={"csrf_token": csrf_token(client, f"/counsel/clients/{sam}/stop"), "confirm": "yes"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"You no longer see the progress of Sam (your label: Tuesday group; client ID {sam})." in ended
    # The other Sam is now the only one: named alone again.
    assert names_on(ended).links[other_sam] == ["Sam"]


def test_the_pages_run_as_many_queries_with_namesakes_as_without(client, app, clients):
    """Each page's count is its own (tests elsewhere hold them fixed as the history grows); the
    label, since when and the namesake are columns of queries each page ran already."""
    lesson = lesson_slugs(app)[0]
    sam = clients["other_sam"]
    urls = [
        "/counsel/",
        "/counsel/?sort=flags&dir=desc",
        "/counsel/clients.csv",
        f"/counsel/clients/{sam}",
        f"/counsel/clients/{sam}/lessons/{lesson}/attempts",
        f"/counsel/clients/{sam}/stop",
    ]

    def read(url: str):
        response = client.get(url)
        response.get_data()  # the CSV streams: its rows are read as the body is
        return response

    for url in urls:
        read(url)  # the first view of a client records their first look
    clashing = [queries_for(app, lambda url=url: read(url)) for url in urls]
    with app.app_context():
        db.session.execute(update(User).where(User.id == clients["sam"]).values(display_name="Jo"))
        db.session.execute(update(CounsellorLink).values(label=None))
        db.session.commit()
    assert "client ID" not in client.get("/counsel/").get_data(as_text=True)
    plain = [queries_for(app, lambda url=url: read(url)) for url in urls]
    # Each page but the CSV also counts the contact requests waiting, for the staff header (app/staff_nav.py).
    assert clashing == plain == [6, 6, 4, 12, 7, 3], (clashing, plain)


def test_an_admins_list_gives_the_id_only_where_names_clash_on_the_page(client, app, clients):
    """An admin sees every learner: the two Sams are told apart, Alex (and the admin's other
    learners) by name alone, with no query more than a list without a clash."""
    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/counsel/")})
    login(client, "ada@example.org")
    sam, other_sam, alex = clients["sam"], clients["other_sam"], clients["alex"]
    page = client.get("/counsel/")
    found = names_on(page.get_data(as_text=True)).links
    # Ada shares with nobody: no label of Casey's, no since; the ID tells the Sams apart.
    assert (found[sam], found[other_sam], found[alex]) == (
        [f"Sam (client ID {sam})"],
        [f"Sam (client ID {other_sam})"],
        ["Alex"],
    )
    clashing = queries_for(app, lambda: client.get("/counsel/"))
    with app.app_context():
        db.session.execute(update(User).where(User.id == sam).values(display_name="Jo"))
        db.session.commit()
    assert "client ID" not in client.get("/counsel/").get_data(as_text=True)
    assert queries_for(app, lambda: client.get("/counsel/")) == clashing
    # A single client's page has nobody beside them to compare with: it still gives the ID.
    assert f"client ID {alex}" in client.get(f"/counsel/clients/{alex}").get_data(as_text=True)
