"""All configuration in one place: environment variables with the ``LEGATION_`` prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_ADMIN_KEY = "dev-admin-key"


class Settings(BaseSettings):
    """Runtime settings. Every field is documented in ``docs/settings.md``."""

    model_config = SettingsConfigDict(env_prefix="LEGATION_", env_file=None, extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        default="development",
        description="production refuses development secrets and hides the interactive API docs.",
    )
    data_dir: Path = Field(default=Path("data"), description="Folder for the SQLite database.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in WAL mode in data_dir."
    )
    admin_api_key: SecretStr = Field(
        default=SecretStr(DEV_ADMIN_KEY), description="Bootstrap admin key for the API."
    )
    max_report_bytes: int = Field(default=2_000_000, description="Larger reports are refused.")
    feed_interval_seconds: int = Field(default=300, description="Default feed polling interval.")
    http_timeout_seconds: float = Field(
        default=20.0, description="Timeout for feeds, pages, webhooks, SMTP."
    )
    worker_batch: int = Field(default=50, description="Jobs a worker claims per transaction.")
    worker_idle_seconds: float = Field(
        default=0.2, description="How long an idle worker waits before looking for work again."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail alerts.")
    smtp_port: int = Field(default=25, description="SMTP port.")
    smtp_sender: str = Field(default="legation@localhost", description="From address of alerts.")
    smtp_username: str | None = Field(default=None, description="SMTP login, if the server asks.")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password (never logged)."
    )
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS."
    )
    escalation_minutes: int = Field(default=15, description="Unacknowledged alerts escalate.")
    delivery_attempts: int = Field(default=5, description="Tries per alert delivery.")
    host: str = Field(default="127.0.0.1", description="Address `legation serve` listens on.")
    port: int = Field(default=8000, description="Port `legation serve` listens on.")
    log_json: bool = Field(default=False, description="Log one JSON object per line.")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    screening_threshold: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="Sanctions screening: a result at or above is a match.",
    )
    screening_sources: str = Field(
        default="un,ofac",
        description="Lists `legation lists update` fetches (un, ofac, eu, uk, uksl, ftm).",
    )
    screening_un_url: str = Field(
        default="https://scsanctions.un.org/resources/xml/en/consolidated.xml",
        description="UN Security Council consolidated list (XML).",
    )
    screening_ofac_url: str = Field(
        default="https://www.treasury.gov/ofac/downloads/{file}.csv",
        description="OFAC SDN CSV set ({file} = sdn, alt, add, sdn_comments), or an SDN.XML URL.",
    )
    screening_eu_url: str = Field(
        default="",
        description="EU Financial Sanctions Files address, XML or CSV 1.0 (with its token).",
    )
    screening_uk_url: str = Field(
        default="https://ofsistorage.blob.core.windows.net/publishlive/2022format/ConList.csv",
        description="UK OFSI consolidated list (ConList.csv), superseded by the FCDO list (uksl).",
    )
    screening_uksl_url: str = Field(
        default="https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.csv",
        description="FCDO UK Sanctions List (CSV).",
    )
    screening_ftm_url: str = Field(
        default="", description="A FollowTheMoney JSON-lines export (e.g. from OpenSanctions)."
    )
    screening_max_removed_share: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description=(
            "A list update that would remove more than this share of the current version's "
            "entries is refused (a cut or wrong file?) unless `lists update --force`."
        ),
    )
    screening_max_list_bytes: int = Field(
        default=200_000_000, description="A list download larger than this is refused."
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="A dashboard login lasts this long without a new login."
    )
    session_idle_minutes: float = Field(
        default=60.0,
        gt=0,
        description="A dashboard login unused for this long ends (within session_hours).",
    )
    tile_url: str | None = Field(
        default=None,
        description="Optional map tile URL template (https://{s}.host/{z}/{x}/{y}.png; {s} is "
        "a, b or c) drawn under the country outlines; none by default: the dashboard then needs "
        "no internet. Every logged-in user sees this URL: put no secret key in it. Production "
        "refuses http:// tiles.",
    )
    taxii_max_content_length: int = Field(
        default=10 * 1024 * 1024, description="Largest TAXII request body in bytes (413 above)."
    )
    taxii_page_size: int = Field(
        default=1000, description="Most objects in one TAXII page; larger limits are capped."
    )
    taxii_cursor_seconds: int = Field(
        default=3600, description="How long a TAXII 'next' cursor stays valid."
    )
    sharing_producer: str = Field(
        default="Legation", description="Organisation name on the STIX objects we publish."
    )
    sharing_source_tlp: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "TLP level per report source for published incidents, as JSON, e.g. "
            '{"closed-feed": "amber"}: an incident takes the most restrictive of the '
            "collection's default and its sources' levels."
        ),
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and (
            self.admin_api_key.get_secret_value() == DEV_ADMIN_KEY
        ):
            raise ValueError("LEGATION_ADMIN_API_KEY still has its development value; set a secret")
        if self.environment == "production" and (self.tile_url or "").startswith("http://"):
            raise ValueError(
                f"LEGATION_TILE_URL {self.tile_url!r} is plain http; production needs https://"
            )
        return self

    @property
    def screening_source_list(self) -> list[str]:
        return [s.strip() for s in self.screening_sources.split(",") if s.strip()]

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, SQLite in ``data_dir`` unless ``database_url`` is set."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'legation.db').resolve()}"


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
