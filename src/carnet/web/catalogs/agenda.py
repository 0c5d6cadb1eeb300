"""French translations of the agenda pages (keys are the English phrases of the templates)."""

FR: dict[str, str] = {
    "Agenda": "Agenda",
    "Upcoming appointments": "Rendez-vous à venir",
    "Past appointments": "Rendez-vous passés",
    "No upcoming appointment.": "Aucun rendez-vous à venir.",
    "No past appointment.": "Aucun rendez-vous passé.",
    "Cancelled": "Annulé",
    "To be confirmed": "À confirmer",
    "Booked by": "Pris par",
    "a professional": "un professionnel",
    "Cancel this appointment": "Annuler ce rendez-vous",
    "Add an appointment": "Ajouter un rendez-vous",
    "You will get a reminder the day before. It says only the date and time.": (
        "Vous recevrez un rappel la veille. Il n'indique que la date et l'heure."
    ),
    "required": "obligatoire",
    "Time": "Heure",
    "Duration": "Durée",
    "With (professional)": "Avec (professionnel)",
    "Place": "Lieu",
    "Note for yourself": "Note pour vous",
    "Optional, 200 characters at most.": "Facultatif, 200 caractères au plus.",
    "Add the appointment": "Ajouter le rendez-vous",
    "The appointment was added.": "Le rendez-vous a été ajouté.",
    "The appointment was cancelled.": "Le rendez-vous a été annulé.",
    "The appointment was not added:": "Le rendez-vous n'a pas été ajouté :",
    "This record is read-only: appointments cannot be added or cancelled.": (
        "Ce dossier est en lecture seule : on ne peut ni ajouter ni annuler de rendez-vous."
    ),
    "Appointments": "Rendez-vous",
    "Next appointments": "Prochains rendez-vous",
    "New appointments": "Nouveaux rendez-vous",
    "See the agenda": "Voir l'agenda",
    # Messages of the agenda's errors shown in the portal
    "Give the date of the appointment.": "Indiquez la date du rendez-vous.",
    "The date must be within the last year or the next five years.": (
        "La date doit se situer dans l'année écoulée ou les cinq prochaines années."
    ),
    "Give the time of the appointment (hours and minutes).": (
        "Indiquez l'heure du rendez-vous (heures et minutes)."
    ),
    "Choose a duration from the list.": "Choisissez une durée dans la liste.",
    "This text is too long (200 characters at most).": (
        "Ce texte est trop long (200 caractères au plus)."
    ),
    "No such appointment.": "Rendez-vous introuvable.",
    "This appointment was booked by a professional: ask them to change or cancel it.": (
        "Ce rendez-vous a été pris par un professionnel : demandez-lui de le modifier ou de "
        "l'annuler."
    ),
    "This appointment is cancelled: it cannot be changed; add a new one.": (
        "Ce rendez-vous est annulé : il ne peut plus être modifié ; ajoutez-en un nouveau."
    ),
    "The record is closed: it is read-only until the patient reopens it.": (
        "Le dossier est fermé : il est en lecture seule jusqu'à sa réactivation."
    ),
}
