"""Message texts (French first). They carry no medical content: only that something happened
and where to look."""

from __future__ import annotations

from typing import Any

SUBJECTS = {
    "sign_in_code": "Votre code de connexion Carnet",
    "activation_code": "Votre code d'activation Carnet",
    "first_access": "Un professionnel a consulté votre dossier pour la première fois",
    "emergency_access": "Accès en urgence à votre dossier",
    "appointment_reminder": "Rappel de rendez-vous",
    "new_message": "Nouveau message dans votre messagerie Carnet",
}


def _when(start: Any) -> str:
    """``le 03/12/2026 à 09h30`` in France's legal time (appointment reminders)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(str(start)).astimezone(ZoneInfo("Europe/Paris"))
    except ValueError:
        return "prochainement"
    return f"le {moment:%d/%m/%Y} à {moment:%Hh%M}"


def render(
    template: str, payload: dict[str, Any], channel: str, *, for_child: bool = False
) -> tuple[str, str]:
    """Subject and body; ``for_child``: sent to a legal representative about their child's
    record (the child is not named: "votre enfant" is enough behind sign-in)."""
    subject = SUBJECTS.get(template, "Carnet")
    record = "le dossier de votre enfant" if for_child else "votre dossier"
    if template == "sign_in_code":
        body = (
            f"Votre code de connexion : {payload.get('code')}\n"
            "Il expire dans 10 minutes. Ne le communiquez à personne."
        )
    elif template == "activation_code":
        body = (
            f"Votre code d'activation : {payload.get('code')}\n"
            "Saisissez-le avec votre numéro de sécurité sociale pour activer votre dossier."
        )
    elif template == "first_access":
        body = (
            f"{payload.get('professional') or 'Un professionnel de santé'} a consulté "
            f"{record} pour la première fois. Retrouvez le détail dans l'historique des accès."
        )
    elif template == "emergency_access":
        # The declared reason describes the patient's condition: it is shown in the access
        # history, behind sign-in, never in an e-mail or an SMS.
        body = (
            f"{payload.get('professional') or 'Un professionnel de santé'} a accédé "
            f"{'au dossier de votre enfant' if for_child else 'à votre dossier'} en urgence "
            "(bris de glace). Retrouvez le motif déclaré et le détail dans l'historique des accès."
        )
    elif template == "new_message":
        # Who wrote, never what: the message stays behind sign-in.
        sender = payload.get("sender")
        body = (
            f"Vous avez un nouveau message de {sender} dans votre messagerie Carnet."
            if sender
            else "Vous avez un nouveau message dans votre messagerie Carnet."
        ) + " Connectez-vous pour le lire."
    elif template == "appointment_reminder":
        # When, never with whom, where or why: those stay in the agenda, behind sign-in.
        who = "votre enfant a" if for_child else "vous avez"
        body = (
            f"Rappel : {who} un rendez-vous {_when(payload.get('start'))}. "
            "Retrouvez le détail dans votre agenda Carnet."
        )
    else:
        body = "Vous avez une nouvelle notification dans Carnet."
    if channel == "sms":
        return subject, body.split("\n")[0][:300]
    return subject, body + "\n\n— Carnet"
