"""The pages: ``/`` and ``/verify`` (public verification), ``/demo`` (demo review site).

Verification uses this publisher's trust root, the verifier ``/v1/verify`` uses. Signing on
``/demo`` goes through :func:`verifier_api.signing.sign_submission`, the path of ``/v1/sign``,
without an API key: the demo is therefore off unless ``PROVENANCE_DEMO=1``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, Response, UploadFile
from pydantic_settings import BaseSettings, SettingsConfigDict

from provenance import (
    STATEMENT_LIMITS,
    BundleFormatError,
    Canonicalization,
    Identity,
    Policy,
    VerificationResult,
    armor_text,
    canonicalize,
    check_armored,
    printable,
)
from provenance.present import DocumentPresentation, present, present_content, visible_text
from verifier_api.auth import ServiceDep
from verifier_api.service import Service, utc_now
from verifier_api.signing import ACCOUNT_ID, SignedSubmission, Submission, sign_submission
from verifier_api.verification import DEFAULT_POLICY, request_policy, verified, verify_bundle
from verifier_api.web.demo_store import StoredReview, load_review, newest_reviews, save_review
from verifier_api.web.form_errors import size_label
from verifier_api.web.pages import render_page, static_file
from verifier_api.web.views import ReviewCard, armored_outcome, content_outcome

VERIFIED_PURCHASE = "verifiedPurchase"
DEMO_OFF = "The demo review site (PROVENANCE_DEMO=1)"
router = APIRouter(include_in_schema=False)
TextField = Annotated[str, Form()]


class WebSettings(BaseSettings):
    """Settings of the pages (environment ``PROVENANCE_DEMO``).

    Attributes:
        demo: Serve the demo review site at ``/demo``. It signs with the publisher's key for
            anyone who asks, so it is for demo homes only (``make run`` turns it on).
    """

    model_config = SettingsConfigDict(env_prefix="PROVENANCE_", extra="ignore")

    demo: bool = False


def install_web(app: FastAPI) -> None:
    """Mount the pages on ``app``, reading :class:`WebSettings` from the environment."""
    app.state.web_settings = WebSettings()
    app.include_router(router)


def _demo_enabled(request: Request) -> bool:
    settings: WebSettings = request.app.state.web_settings
    return settings.demo


def _base_context(request: Request, service: Service) -> dict[str, Any]:
    return {
        "publisher": printable(service.publisher.settings.name),
        "signing_identity": printable(service.publisher.service_identity),
        "demo_enabled": _demo_enabled(request),
        "body_limit": size_label(service.settings.max_body_bytes),
    }


def _policy(identity: str) -> Policy | None:
    """The form's policy, built as the API builds a request's: ``{"identity": identity}`` when
    one is typed, else none (the service's default, any identity this publisher certifies).

    Raises:
        PolicyError: ``policy.malformed`` (never for a non-empty identity).
    """
    return request_policy({"identity": identity} if identity else None)


@router.get("/")
def index(request: Request, service: ServiceDep) -> Response:
    """The verification page: paste signed text, or upload content and its bundle."""
    context = {**_base_context(request, service), "outcome": None, "document": "", "identity": ""}
    return render_page("verify.html", context)


@router.post("/verify")
def verify_pasted(
    request: Request, service: ServiceDep, document: TextField = "", identity: TextField = ""
) -> Response:
    """Verify pasted signed text and show the verdict card (works without JavaScript)."""
    identity = identity.strip()
    policy = _policy(identity) or DEFAULT_POLICY
    checked = verified(
        service, lambda moment: check_armored(moment.verifier, document, policy, at=moment.at)
    )
    context = _verdict_context(request, service, armored_outcome(checked, _trust(service)))
    return render_page("verify.html", {**context, "document": document, "identity": identity})


@router.post("/verify/upload")
def verify_upload(
    request: Request,
    service: ServiceDep,
    content: Annotated[UploadFile, File()],
    bundle: Annotated[UploadFile, File()],
    identity: TextField = "",
) -> Response:
    """Verify uploaded content against an uploaded bundle file and show the verdict card."""
    identity = identity.strip()
    content_bytes = content.file.read()
    checked = verify_bundle(service, content_bytes, bundle.file.read(), _policy(identity))
    outcome = content_outcome(content_bytes, checked.result, _trust(service, checked.publisher))
    context = _verdict_context(request, service, outcome)
    return render_page("verify.html", {**context, "document": "", "identity": identity})


def _trust(service: Service, publisher: str | None = None) -> str:
    """The name of who vouched: this publisher, or the trust store's ``publisher``."""
    return printable(publisher or service.publisher.settings.name)


def _verdict_context(
    request: Request, service: Service, outcome: DocumentPresentation
) -> dict[str, Any]:
    return {**_base_context(request, service), "outcome": outcome}


@router.get("/static/{name}")
def static(request: Request, service: ServiceDep, name: str) -> Response:
    """The page's CSS and script, served from the package (no CDN)."""
    response = static_file(name)
    return response or _not_found(request, service, "This file")


@router.get("/demo")
def demo_form(request: Request, service: ServiceDep) -> Response:
    """The demo review site: the published reviews with their badges, and the form."""
    if not _demo_enabled(request):
        return _not_found(request, service, DEMO_OFF)
    return _demo_page(request, service, errors=[], form=_empty_form())


@router.get("/demo/reviews/{review_id}")
def demo_review(request: Request, service: ServiceDep, review_id: str) -> Response:
    """The full verdict on one published review, checked against its bundle now."""
    stored = load_review(service.settings.home, review_id) if _demo_enabled(request) else None
    if stored is None:
        return _not_found(
            request, service, DEMO_OFF if not _demo_enabled(request) else "This review"
        )
    content = stored.text.encode("utf-8")
    result = _check_review(service, stored)
    title = f"Review #{int(stored.review_id)}"
    outcome = present_content(content, result, trust=_trust(service), title=title)
    context = {
        **_verdict_context(request, service, outcome),
        "review": _card(stored, result, _trust(service)),
    }
    return render_page(
        "demo_review.html", {**context, "identity": service.publisher.service_identity}
    )


@router.post("/demo")
def demo_sign(
    request: Request,
    service: ServiceDep,
    *,
    account_id: TextField = "",
    display_name: TextField = "",
    text: TextField = "",
    verified_purchase: Annotated[str | None, Form()] = None,
) -> Response:
    """Sign a review as a demo account (the ``/v1/sign`` path) and show it with its armor."""
    if not _demo_enabled(request):
        return _not_found(request, service, DEMO_OFF)
    form = {
        "account_id": account_id,
        "display_name": display_name,
        "text": text,
        "verified_purchase": verified_purchase is not None,
    }
    errors = _demo_errors(account_id, display_name, text)
    if errors:
        return _demo_page(request, service, errors=errors, form=form, status_code=422)
    claims = {VERIFIED_PURCHASE: True} if form["verified_purchase"] else {}
    submission = Submission(text.encode("utf-8"), "text/plain", account_id, display_name, claims)
    try:
        signed = sign_submission(service.publisher, service.sequencer, submission, now=utc_now())
    except BundleFormatError as exc:
        errors = [f"{exc.code}: {exc.message}"]
        return _demo_page(request, service, errors=errors, form=form, status_code=422)
    service.metrics.signatures.inc()
    canonical = canonicalize(text.encode("utf-8"), Canonicalization.TEXT_V1).decode("utf-8")
    review_id = save_review(service.settings.home, display_name, canonical, signed.bundle)
    return _signed_review_page(request, service, signed, form, review_id)


def _empty_form() -> dict[str, Any]:
    return {"account_id": "", "display_name": "", "text": "", "verified_purchase": True}


def _demo_errors(account_id: str, display_name: str, text: str) -> list[str]:
    errors = []
    if not ACCOUNT_ID.fullmatch(account_id):
        errors.append("Account id: 1 to 64 letters, digits, '_' or '-'.")
    if not display_name.strip() or len(display_name) > STATEMENT_LIMITS.max_text_chars:
        errors.append(f"Display name: 1 to {STATEMENT_LIMITS.max_text_chars} characters.")
    if not text.strip():
        errors.append("Review: write some text.")
    return errors


def _demo_page(
    request: Request,
    service: Service,
    *,
    errors: list[str],
    form: dict[str, Any],
    status_code: int = 200,
) -> Response:
    trust = _trust(service)
    stored = newest_reviews(service.settings.home)
    reviews = [_card(r, _check_review(service, r), trust) for r in stored]
    context = {**_base_context(request, service), "errors": errors, "form": form}
    context |= {"reviews": reviews, "max_name_chars": STATEMENT_LIMITS.max_text_chars}
    return render_page("demo.html", context, status_code)


def _check_review(service: Service, stored: StoredReview) -> VerificationResult:
    """Verify a stored review against its bundle: signed by this publisher's signing service."""
    policy = Identity(service.publisher.service_identity)
    return verify_bundle(service, stored.text.encode("utf-8"), stored.bundle, policy).result


def _card(stored: StoredReview, result: VerificationResult, trust: str) -> ReviewCard:
    return ReviewCard(
        review_id=stored.review_id,
        number=int(stored.review_id),
        display_name=printable(stored.display_name),
        text=visible_text(stored.text),
        presentation=present(result, trust=trust),
    )


def _signed_review_page(
    request: Request,
    service: Service,
    signed: SignedSubmission,
    form: dict[str, Any],
    review_id: str | None,
) -> Response:
    text = canonicalize(form["text"].encode("utf-8"), Canonicalization.TEXT_V1).decode("utf-8")
    context = {
        **_base_context(request, service),
        "author_name": printable(form["display_name"]),
        "author_id": printable(signed.author_id),
        "verified_purchase": form["verified_purchase"],
        "log_index": signed.log_index,
        "text": visible_text(text),
        "armored": armor_text(text, signed.bundle),
        "review_id": review_id,
    }
    return render_page("demo_signed.html", context)


def _not_found(request: Request, service: Service, what: str) -> Response:
    return render_page("not_found.html", {**_base_context(request, service), "what": what}, 404)
