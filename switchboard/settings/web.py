"""The web process: the public URL webhooks are signed for, the proxies in front of it, its port."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from switchboard.settings.checks import blank_is_unset, http_url


class WebSettings(BaseModel):
    public_base_url: str | None = None
    # X-Forwarded-* hops to trust (your load balancers). Unset means 0; on AWS set it or PUBLIC_BASE_URL.
    trusted_proxy_hops: int | None = Field(default=None, ge=0, le=5)
    port: int = Field(default=8000, ge=1, le=65535)
    processing_mode: Literal["queue", "direct"] = "queue"

    @field_validator("public_base_url")
    @classmethod
    def _public_url_is_an_http_url(cls, value: str | None) -> str | None:
        return http_url(value)

    @field_validator("trusted_proxy_hops", mode="before")
    @classmethod
    def _blank_proxy_hops_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @property
    def proxy_hops(self) -> int:
        return self.trusted_proxy_hops or 0
