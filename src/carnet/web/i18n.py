"""Portal translations: French first, English available. Keys are short English phrases."""

from __future__ import annotations

from fastapi import Request

LANGS = ("fr", "en")

FR: dict[str, str] = {
    "Sign in": "Se connecter",
    "Sign out": "Se déconnecter",
    "Identifier": "Identifiant",
    "Password": "Mot de passe",
    "Continue": "Continuer",
    "One-time code": "Code à usage unique",
    "Authenticator code": "Code de l'application d'authentification",
    "We sent a code by e-mail.": "Nous vous avons envoyé un code par e-mail.",
    "We sent a code by SMS.": "Nous vous avons envoyé un code par SMS.",
    "Enter the 6-digit code of your authenticator app (e-CPS stand-in).": (
        "Saisissez le code à 6 chiffres de votre application d'authentification (en lieu d'e-CPS)."
    ),
    "Your health record": "Votre dossier médical",
    "Signed in as": "Connecté en tant que",
    "Skip to content": "Aller au contenu",
    "Language": "Langue",
    "Something went wrong": "Une erreur est survenue",
    "Back": "Retour",
    "Access history": "Historique des accès",
    "Allow": "Autoriser",
    "Deny": "Refuser",
    "wants to access your record": "demande à accéder à votre dossier",
    "It will be able to:": "Elle pourra :",
    "Whose record?": "Quel dossier ?",
    "My own record": "Mon propre dossier",
    "You can disconnect it at any time.": "Vous pourrez la déconnecter à tout moment.",
    "Welcome": "Bienvenue",
    "Professional space": "Espace professionnel",
    "The form has expired; please try again.": "Le formulaire a expiré ; veuillez réessayer.",
    "Data sources": "Sources des données",
    # Messages of domain errors shown in the portal
    "Unknown identifier or wrong password.": "Identifiant inconnu ou mot de passe erroné.",
    "Too many failed sign-ins: try again in a few minutes.": (
        "Trop d'échecs de connexion : réessayez dans quelques minutes."
    ),
    "Wrong code.": "Code erroné.",
    "The code has expired; start again.": "Le code a expiré ; recommencez.",
    "Too many wrong codes; start again.": "Trop de codes erronés ; recommencez.",
    "Wrong authenticator code.": "Code d'authentification erroné.",
    "Too many wrong authenticator codes: try again in a few minutes.": (
        "Trop de codes d'authentification erronés : réessayez dans quelques minutes."
    ),
    "Please sign in.": "Veuillez vous connecter.",
    "Your session has expired; please sign in again.": (
        "Votre session a expiré ; veuillez vous reconnecter."
    ),
    "Your sign-in has expired; start again.": "Votre connexion a expiré ; recommencez.",
    "Only patients can connect apps to their record.": (
        "Seuls les patients peuvent connecter une application à leur dossier."
    ),
    "You cannot connect an app to this record.": (
        "Vous ne pouvez pas connecter d'application à ce dossier."
    ),
    "Internal error; nothing was saved.": "Erreur interne ; rien n'a été enregistré.",
    "Not Found": "Page introuvable",
}


def lang_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get("carnet_lang")
    if chosen in LANGS:
        return chosen
    accept = request.headers.get("accept-language", "")
    return "en" if accept.startswith("en") else "fr"


def translator(lang: str):  # type: ignore[no-untyped-def]
    def t(text: str) -> str:
        return FR.get(text, text) if lang == "fr" else text

    return t
