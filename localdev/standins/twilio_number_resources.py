"""Twilio's IncomingPhoneNumber, WhatsApp sender and messaging service resources, and their list pages, as its API shapes them."""

from __future__ import annotations

from typing import Any

from flask import request

from localdev.standins.twilio_resources import API_VERSION, new_sid, rfc2822, utc_now


def number_resource(account_sid: str, number: str, data: dict[str, Any], sid: str | None) -> dict[str, Any]:
    sid = sid or new_sid("PN")
    now = rfc2822(utc_now())
    return {
        "account_sid": account_sid, "address_requirements": "none", "address_sid": None, "api_version": API_VERSION,
        "beta": False, "bundle_sid": None, "capabilities": {"fax": False, "mms": True, "sms": True, "voice": True},
        "date_created": now, "date_updated": now, "emergency_address_sid": None,
        "emergency_address_status": "unregistered", "emergency_status": "Inactive", "friendly_name": number,
        "identity_sid": None, "origin": "twilio", "phone_number": number, "sid": sid,
        "sms_application_sid": data.get("application_sid") or "", "sms_fallback_method": "POST",
        "sms_fallback_url": "", "sms_method": data.get("method") or "POST", "sms_url": data.get("url") or "",
        # A number's status_callback is for calls; message reports are asked for per message.
        "status": "in-use", "status_callback": "", "status_callback_method": "POST", "trunk_sid": None,
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
        "voice_application_sid": "", "voice_caller_id_lookup": False, "voice_fallback_method": "POST",
        "voice_fallback_url": None, "voice_method": "POST", "voice_receive_mode": "voice", "voice_url": None,
        "subresource_uris": {"assigned_add_ons": f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/"
                                                 f"{sid}/AssignedAddOns.json"},
    }


def sender_resource(account_sid: str, sender_id: str, data: dict[str, Any], sid: str | None) -> dict[str, Any]:
    sid = sid or new_sid("XE")
    return {
        "sid": sid, "status": "ONLINE", "sender_id": sender_id,
        "configuration": {"waba_id": "123456789012345", "verification_method": "sms", "verification_code": None,
                          "voice_application_sid": None},
        "webhook": {"callback_url": data.get("url"), "callback_method": data.get("method") or "POST",
                    "fallback_url": None, "fallback_method": "POST",
                    "status_callback_url": data.get("status_callback"), "status_callback_method": "POST"},
        "profile": {"name": "Switchboard (stand-in)", "about": None, "address": None, "description": None,
                    "logo_url": None, "banner_url": None, "privacy_url": None, "terms_of_service_url": None,
                    "accent_color": None, "vertical": "Other", "websites": None, "emails": None,
                    "phone_numbers": None},
        "properties": {"quality_rating": "HIGH", "messaging_limit": "1K Customers/24hr"},
        "offline_reasons": None, "compliance": None,
        "url": f"https://messaging.twilio.com/v2/Channels/Senders/{sid}",
    }


def service_resource(account_sid: str, data: dict[str, Any]) -> dict[str, Any]:
    sid, now = str(data["sid"]), utc_now().isoformat().replace("+00:00", "Z")
    url = f"https://messaging.twilio.com/v1/Services/{sid}"
    return {
        "account_sid": account_sid, "area_code_geomatch": True, "date_created": now, "date_updated": now,
        "fallback_method": "POST", "fallback_to_long_code": True, "fallback_url": None,
        "friendly_name": data.get("friendly_name", "Switchboard"), "inbound_method": data.get("inbound_method", "POST"),
        "inbound_request_url": data.get("inbound_request_url"), "mms_converter": True,
        "scan_message_content": "inherit", "sid": sid, "smart_encoding": True,
        "status_callback": data.get("status_callback"), "sticky_sender": True, "synchronous_validation": False,
        "url": url, "usecase": "undeclared", "us_app_to_person_registered": False,
        "use_inbound_webhook_on_number": bool(data.get("use_inbound_webhook_on_number", False)),
        "validity_period": 14400,
        "links": {name: f"{url}/{name.title().replace('_', '')}"
                  for name in ("phone_numbers", "short_codes", "alpha_senders", "channel_senders")},
    }


def legacy_page(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The 2010-04-01 API's list page: everything on page 0 (an account has a handful of numbers)."""
    uri = request.full_path.rstrip("?")
    return {key: rows, "end": max(len(rows) - 1, 0), "first_page_uri": uri, "next_page_uri": None, "page": 0,
            "page_size": max(len(rows), 50), "previous_page_uri": None, "start": 0, "uri": uri}


def v2_page(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The newer APIs' list page: the rows under `key`, paging under `meta`."""
    url = request.url
    return {key: rows, "meta": {"page": 0, "page_size": max(len(rows), 50), "first_page_url": url,
                                "previous_page_url": None, "url": url, "next_page_url": None, "key": key}}
