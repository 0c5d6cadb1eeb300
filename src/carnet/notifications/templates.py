"""Message texts (French first). They carry no medical content: only that something happened
and where to look."""

from __future__ import annotations

from typing import Any

SUBJECTS = {
    "sign_in_code": "Votre code de connexion Carnet",
    "activation_code": "Votre code d'activation Carnet",
    "first_access": "Un professionnel a consulté votre dossier pour la première fois",
    "emergency_access": "Accès en urgence à votre dossier",
}


def render(template: str, payload: dict[str, Any], channel: str) -> tuple[str, str]:
    subject = SUBJECTS.get(template, "Carnet")
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
            f"{payload.get('professional') or 'Un professionnel de santé'} a consulté votre "
            "dossier pour la première fois. Retrouvez le détail dans l'historique des accès."
        )
    elif template == "emergency_access":
        # The declared reason describes the patient's condition: it is shown in the access
        # history, behind sign-in, never in an e-mail or an SMS.
        body = (
            f"{payload.get('professional') or 'Un professionnel de santé'} a accédé à votre "
            "dossier en urgence (bris de glace). Retrouvez le motif déclaré et le détail dans "
            "l'historique des accès."
        )
    else:
        body = "Vous avez une nouvelle notification dans Carnet."
    if channel == "sms":
        return subject, body.split("\n")[0][:300]
    return subject, body + "\n\n— Carnet"
