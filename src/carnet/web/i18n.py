"""Portal translations: French first, English available. Keys are short English phrases."""

from __future__ import annotations

from fastapi import Request

from carnet.web.catalogs import agenda, apps, messaging, practice, profile

LANGS = ("fr", "en")

CORE: dict[str, str] = {
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
    "Hide your own consultations": "Masquer vos propres consultations",
    "Your own consultations are hidden.": "Vos propres consultations sont masquées.",
    "Show everything": "Tout afficher",
    "Allow": "Autoriser",
    "Deny": "Refuser",
    "wants to access your record": "demande à accéder à votre dossier",
    "It will be able to:": "Elle pourra :",
    "Whose record?": "Quel dossier ?",
    "My own record": "Mon propre dossier",
    "You can disconnect it at any time.": "Vous pourrez la déconnecter à tout moment.",
    "Welcome": "Bienvenue",
    "No new message.": "Aucun nouveau message.",
    "See the messages": "Voir les messages",
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
    # Patient pages
    "Your record": "Votre dossier",
    "Home": "Accueil",
    "Documents": "Documents",
    "Authorizations": "Autorisations",
    "my own record": "mon propre dossier",
    "Switch record": "Changer de dossier",
    "You are acting for": "Vous agissez pour",
    "New since your last visit": "Nouveautés depuis votre dernière visite",
    "Latest news": "Dernières nouveautés",
    "document(s) waiting for your doctor": "document(s) en attente chez votre médecin",
    "New documents": "Nouveaux documents",
    "No new document.": "Aucun nouveau document.",
    "New accesses to your record": "Nouveaux accès à votre dossier",
    "No new access.": "Aucun nouvel accès.",
    "Emergency access": "Accès en urgence",
    "No document in this record yet.": "Aucun document dans ce dossier pour l'instant.",
    "Added by you": "Ajouté par vous",
    "Hidden from professionals": "Masqué aux professionnels",
    "All documents": "Tous les documents",
    "Category": "Catégorie",
    "Date": "Date",
    "Author": "Auteur",
    "Added to the record": "Ajouté au dossier le",
    "Format": "Format",
    "kB": "ko",
    "Visible to professionals": "Visible par les professionnels",
    "No: hidden by you (except your médecin traitant)": (
        "Non : masqué par vous (sauf pour votre médecin traitant)"
    ),
    "Yes": "Oui",
    "Download": "Télécharger",
    "Hide from professionals": "Masquer aux professionnels",
    "Show to professionals again": "Rendre de nouveau visible aux professionnels",
    "Every access to the record is recorded here, newest first.": (
        "Chaque accès au dossier est enregistré ici, du plus récent au plus ancien."
    ),
    "No access yet.": "Aucun accès pour l'instant.",
    "Pages": "Pages",
    "Newest": "Les plus récents",
    "Older accesses": "Accès plus anciens",
    "Older conversations": "Conversations plus anciennes",
    "Newer documents": "Documents plus récents",
    "Older documents": "Documents plus anciens",
    "No older document.": "Aucun document plus ancien.",
    "Your patients with the latest authorizations. For another patient, type their INS below.": (
        "Vos patients aux autorisations les plus récentes. Pour un autre patient, saisissez "
        "son INS ci-dessous."
    ),
    "Professionals": "Professionnels",
    "Professionals and their access": "Les professionnels et leur accès",
    "Professional": "Professionnel",
    "Status": "Statut",
    "Actions": "Actions",
    "Blocked": "Bloqué",
    "Authorized": "Autorisé",
    "Not authorized": "Non autorisé",
    "Médecin traitant": "Médecin traitant",
    "Unblock": "Débloquer",
    "Revoke": "Retirer l'autorisation",
    "Authorize": "Autoriser",
    "Block": "Bloquer",
    "Designate as médecin traitant": "Désigner comme médecin traitant",
    "No longer médecin traitant": "Ne plus désigner comme médecin traitant",
    "No decision yet.": "Aucune décision pour l'instant.",
    "Find a professional": "Rechercher un professionnel",
    "Name or RPPS": "Nom ou RPPS",
    "Search": "Rechercher",
    "No professional found.": "Aucun professionnel trouvé.",
    "Your choices": "Vos choix",
    "I oppose access to my record in an emergency (break the glass)": (
        "Je m'oppose à l'accès à mon dossier en urgence (bris de glace)"
    ),
    "I oppose access by the SAMU regulator": "Je m'oppose à l'accès du médecin régulateur du SAMU",
    "Save my choices": "Enregistrer mes choix",
    "This page is for patients.": "Cette page est réservée aux patients.",
    "Unknown action.": "Action inconnue.",
    "Choose a professional.": "Choisissez un professionnel.",
    "No such document.": "Document introuvable.",
    "This professional is blocked: unblock them first.": (
        "Ce professionnel est bloqué : débloquez-le d'abord."
    ),
    "Only a physician can be médecin traitant.": ("Seul un médecin peut être médecin traitant."),
    "This document is not visible to the patient yet.": (
        "Ce document n'est pas encore visible par le patient."
    ),
    "Internal error; nothing was saved.": "Erreur interne ; rien n'a été enregistré.",
    "Not Found": "Page introuvable",
}

FR: dict[str, str] = dict(CORE)  # the shared phrases, then each area's catalogue
for _catalog in (agenda, messaging, practice, profile, apps):
    FR.update(_catalog.FR)


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
