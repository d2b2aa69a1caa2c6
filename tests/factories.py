import factory
from factory.django import DjangoModelFactory

from accounts.models import Notification, Role, Team, User

TEST_PASSWORD = "pass-for-tests-1"


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@agency.test")
    full_name = factory.Faker("name", locale="vi_VN")
    role = Role.ACCOUNT_MANAGER
    preferred_language = "en"
    is_superuser = factory.LazyAttribute(lambda user: user.role == Role.ADMIN)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Hand-over {n} is due")
    body = "Creative needs the brief by Friday."
    url = "/people/"
    send_email = False
