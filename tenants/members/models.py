from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    @staticmethod
    def normalize_login(email: str | None) -> str:
        """E-mail addresses are stored lower-case and trimmed; so is every login."""
        return (email or "").strip().lower()

    def get_by_natural_key(self, email: str | None):
        # Every login by e-mail (client sites, the platform admin) ends here
        # through ModelBackend: "  Ann@Example.COM " finds ann@example.com.
        return self.get(**{self.model.USERNAME_FIELD: self.normalize_login(email)})

    def _create(self, email: str, password: str | None, **fields):
        email = self.normalize_login(email)
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractUser):
    """A person. Lives in one schema: a client's employees in that client's
    schema, platform staff in the public schema. The same email in two
    clients is two unrelated accounts."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        ADMIN = "admin", "Tenant admin"

    username = None
    email = models.EmailField("email address", unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_tenant_admin(self) -> bool:
        return self.is_active and self.role == self.Role.ADMIN
