"""The payment providers' callback endpoint (server to server, no session, no CSRF token)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kinfolk.core.errors import KinfolkError
from kinfolk.orders.services.payments import payment_callback_handle


@csrf_exempt
@require_POST
def payment_callback(request: HttpRequest, provider: str) -> HttpResponse:
    try:
        outcome = payment_callback_handle(
            provider_code=provider, body=request.body, headers=dict(request.headers)
        )
    except KinfolkError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"outcome": outcome})
