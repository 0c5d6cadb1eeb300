"""French translations of the messaging pages (keys are the English phrases of the templates)."""

FR: dict[str, str] = {
    "Messages": "Messages",
    "All messages": "Tous les messages",
    "Attachment (optional)": "Pièce jointe (facultative)",
    "Attachments": "Pièces jointes",
    "Confidential: not shown to a minor's legal representatives": (
        "Confidentiel : non visible par les représentants légaux d'un mineur"
    ),
    "From your patients": "Parmi vos patients",
    "KB": "Ko",
    "Message": "Message",
    "New": "Nouveau",
    "No message yet.": "Aucun message pour l'instant.",
    "PDF, JPEG, PNG or plain text; at most (MB):": (
        "PDF, JPEG, PNG ou texte brut ; taille maximale (Mo) :"
    ),
    "Patient": "Patient",
    "Patient:": "Patient :",
    "Reply": "Répondre",
    "Send": "Envoyer",
    "Subject": "Objet",
    "The message was not sent": "Le message n'a pas été envoyé",
    "The professionals you have authorized write to you here, and you answer them. As in Mon "
    "Espace Santé, a conversation is started by a professional.": (
        "Les professionnels que vous avez autorisés vous écrivent ici, et vous leur répondez. "
        "Comme dans Mon Espace Santé, une conversation est engagée par un professionnel."
    ),
    "With": "Avec",
    "Write to a patient": "Écrire à un patient",
    "You can no longer reply in this conversation.": (
        "Vous ne pouvez plus répondre dans cette conversation."
    ),
    "You can write to the patients who have authorized you to access their record.": (
        "Vous pouvez écrire aux patients qui vous ont autorisé à accéder à leur dossier."
    ),
    "Your conversations": "Vos conversations",
    "Your message": "Votre message",
    "last message on": "dernier message le",
    "legal representative": "représentant légal",
    "or their INS (15-digit social security number)": (
        "ou son INS (numéro de sécurité sociale à 15 chiffres)"
    ),
    "unread": "non lu(s)",
    # Messages of domain errors shown in the portal
    "The subject is required.": "L'objet est obligatoire.",
    "The subject is too long (200 characters at most).": (
        "L'objet est trop long (200 caractères au plus)."
    ),
    "The message is empty.": "Le message est vide.",
    "The message is too long (10,000 characters at most).": (
        "Le message est trop long (10 000 caractères au plus)."
    ),
    "At most 5 attachments per message.": "5 pièces jointes au plus par message.",
    "The attached file is empty.": "Le fichier joint est vide.",
    "The attached file is larger than allowed.": ("Le fichier joint dépasse la taille autorisée."),
    "Attachments must be PDF, JPEG, PNG or plain text files.": (
        "Les pièces jointes doivent être des fichiers PDF, JPEG, PNG ou texte brut."
    ),
    "Choose a patient, or enter their INS.": "Choisissez un patient, ou saisissez son INS.",
    "No such message thread.": "Cette conversation est introuvable.",
    "Patients reply to the threads professionals start: you cannot start one.": (
        "Les patients répondent aux conversations engagées par les professionnels : vous ne "
        "pouvez pas en commencer une."
    ),
    "The record is closed: no new message can be written.": (
        "Le dossier est fermé : aucun nouveau message ne peut être écrit."
    ),
    "Messaging is for normal care: not in emergency or regulator mode.": (
        "La messagerie est réservée aux soins courants : pas en mode urgence ni régulation."
    ),
    "Only professionals the patient has authorized can exchange messages with them.": (
        "Seuls les professionnels autorisés par le patient peuvent échanger des messages avec lui."
    ),
}
