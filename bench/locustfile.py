"""The load test's users (issue 9): account managers, sales, directors, finance and API clients working at once.

Run by ``bench/load.py``, which starts gunicorn, a Celery worker and locust, and hands over the demo logins, an
API token and record ids in ``ACCORD_LOAD_PLAN`` (a JSON file). Each user signs in once, then clicks through the
pages of their day with a few seconds between clicks; an API client calls the REST API with its token.
"""

import json
import os
import random
import re

import gevent
from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["ACCORD_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The figures cover this many seconds from the moment the last user has signed in (bench/load.py --time).
MEASURED_SECONDS = float(os.environ.get("ACCORD_LOAD_SECONDS", "120"))
signed_in = 0


def one_more_signed_in(environment) -> None:
    """Once every user has signed in, start the figures afresh and stop MEASURED_SECONDS later: a sign-in is a
    deliberately slow password hash, once per working day, and 50 of them at once are not the day's work."""
    global signed_in
    signed_in += 1
    if signed_in == environment.runner.target_user_count:
        environment.runner.stats.reset_all()
        gevent.spawn_later(MEASURED_SECONDS, environment.runner.quit)


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(2, 6)
    role = ""

    def on_start(self):
        self.me = random.choice(PLAN["logins"][self.role])
        page = self.client.get("/login/", name="/login/")
        token = CSRF.search(page.text).group(1)
        with self.client.post(
            "/login/",
            data={"username": self.me["email"], "password": PLAN["password"], "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/login/"},
            name="/login/ (POST)",
            catch_response=True,
            allow_redirects=False,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in as {self.me['email']} answered {answer.status_code}")
        one_more_signed_in(self.environment)

    def visit(self, path: str, name: str | None = None):
        with self.client.get(path, name=name or path, catch_response=True, allow_redirects=False) as answer:
            if answer.status_code != 200:
                answer.failure(f"{path} answered {answer.status_code}")

    def one_of(self, key: str) -> int:
        return random.choice(self.me[key])


class AccountManager(SignedIn):
    weight = 20
    role = "account_manager"

    @task(3)
    def home(self):
        self.visit("/")

    @task(3)
    def clients(self):
        self.visit("/clients/")

    @task(4)
    def client(self):
        self.visit(f"/clients/{self.one_of('clients')}/", "/clients/<id>/")

    @task(2)
    def pipeline(self):
        self.visit("/pipeline/")

    @task(2)
    def contract(self):
        self.visit(f"/contracts/{self.one_of('contracts')}/", "/contracts/<id>/")

    @task(2)
    def invoices(self):
        self.visit("/invoices/")

    @task(1)
    def dashboard(self):
        self.visit("/kpis/am/")

    @task(1)
    def proposals(self):
        self.visit("/proposals/")


class Sales(SignedIn):
    weight = 8
    role = "sales"

    @task(3)
    def pipeline(self):
        self.visit("/pipeline/")

    @task(2)
    def contracts(self):
        self.visit("/contracts/")

    @task(1)
    def dashboard(self):
        self.visit("/kpis/sales/")

    @task(1)
    def home(self):
        self.visit("/")


class Director(SignedIn):
    weight = 5
    role = "director"

    @task(3)
    def dashboard(self):
        self.visit("/kpis/")

    @task(1)
    def quarter(self):
        self.visit("/kpis/?kind=quarter", "/kpis/?kind=quarter")

    @task(1)
    def receivables(self):
        self.visit("/receivables/")

    @task(1)
    def home(self):
        self.visit("/")


class Finance(SignedIn):
    weight = 7
    role = "finance"

    @task(3)
    def invoices(self):
        self.visit("/invoices/")

    @task(2)
    def overdue(self):
        self.visit("/invoices/?overdue=on", "/invoices/?overdue=on")

    @task(2)
    def invoice(self):
        self.visit(f"/invoices/{self.one_of('invoices')}/", "/invoices/<id>/")

    @task(2)
    def collections(self):
        self.visit("/collections/")

    @task(1)
    def receivables(self):
        self.visit("/receivables/")


class ApiClient(HttpUser):
    """Another agency tool (BI, accounting) reading through the REST API with a read-only service token."""

    weight = 10
    wait_time = between(1, 3)

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {PLAN['api_token']}"
        one_more_signed_in(self.environment)

    def call(self, path: str, name: str):
        with self.client.get(path, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{path} answered {answer.status_code}")

    @task(3)
    def clients(self):
        self.call(f"/api/v1/clients?page={random.randint(1, 20)}", "/api/v1/clients")

    @task(3)
    def invoices(self):
        self.call(f"/api/v1/invoices?page={random.randint(1, 20)}", "/api/v1/invoices")

    @task(2)
    def contracts(self):
        self.call("/api/v1/contracts?stage=negotiation", "/api/v1/contracts?stage=")

    @task(1)
    def aging(self):
        self.call("/api/v1/receivables/aging?by=owner", "/api/v1/receivables/aging")

    @task(1)
    def metric(self):
        self.call(
            f"/api/v1/kpis/metrics?metric=signed_revenue&scope=agency&period={PLAN['period']}", "/api/v1/kpis/metrics"
        )

    @task(2)
    def one_invoice(self):
        self.call(f"/api/v1/invoices/{random.choice(PLAN['invoices'])}", "/api/v1/invoices/<id>")
