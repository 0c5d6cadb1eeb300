"""French translations of the apps pages (keys are the English phrases of the templates)."""

FR: dict[str, str] = {
    # navigation and the apps page
    "Connected apps": "Applications connectées",
    "Apps connected to this record": "Applications connectées à ce dossier",
    "No app is connected to this record.": "Aucune application n'est connectée à ce dossier.",
    "Connected on": "Connectée le",
    "Publisher:": "Éditeur :",
    "You allowed it to:": "Vous l'avez autorisée à :",
    "What it added to the record": "Ce qu'elle a ajouté au dossier",
    "Measurement": "Mesure",
    "Value": "Valeur",
    "Nothing yet.": "Rien pour l'instant.",
    "Only the latest are shown; all of them are in your medical profile.": (
        "Seuls les plus récents sont affichés ; tous figurent dans votre profil médical."
    ),
    "Disconnect": "Déconnecter",
    "is disconnected: it can no longer read or add anything to this record.": (
        "est déconnectée : elle ne peut plus rien lire ni ajouter dans ce dossier."
    ),
    "Catalogue of apps": "Catalogue d'applications",
    "These apps were reviewed and labelled by Carnet's operator. An app only ever sees what "
    "you allow it, and you can disconnect it at any time.": (
        "Ces applications ont été examinées et référencées par l'opérateur de Carnet. Une "
        "application ne voit jamais que ce que vous lui autorisez, et vous pouvez la "
        "déconnecter à tout moment."
    ),
    "No app in the catalogue yet.": "Aucune application au catalogue pour l'instant.",
    "It may ask to:": "Elle peut demander à :",
    "Connected": "Connectée",
    "Connect": "Connecter",
    "You will go to the app, which sends you back here to choose what it may see.": (
        "Vous irez sur l'application, qui vous renverra ici pour choisir ce qu'elle pourra voir."
    ),
    "To connect it, open the app and choose « Connect to Carnet »: you will come back here to "
    "choose what it may see.": (
        "Pour la connecter, ouvrez l'application et choisissez « Se connecter à Carnet » : vous "
        "reviendrez ici pour choisir ce qu'elle pourra voir."
    ),
    "Choose an app.": "Choisissez une application.",
    "No such connected app.": "Cette application n'est pas connectée.",
    # labels and categories of the catalogue
    "Referenced": "Référencée",
    "Referenced on": "Référencée le",
    "Not in the catalogue": "Hors catalogue",
    "Physical activity": "Activité physique",
    "Chronic conditions": "Maladies chroniques",
    "Nutrition": "Nutrition",
    "Medication": "Médicaments",
    "Mental health": "Santé mentale",
    "Prevention": "Prévention",
    "Other": "Autre",
    # the consent page (SMART authorization)
    "It will also:": "Elle pourra aussi :",
    "Untick what you do not want to share.": "Décochez ce que vous ne voulez pas partager.",
    "Tick at least one kind of data, or deny the connection.": (
        "Cochez au moins un type de données, ou refusez la connexion."
    ),
    # scopes in plain words: "<verb> <what>"
    "read": "lire",
    "add": "ajouter",
    "read and add": "lire et ajouter",
    "all of your record": "tout votre dossier",
    "your identity (name, date of birth)": "votre identité (nom, date de naissance)",
    "your measurements (steps, weight, blood pressure, results)": (
        "vos mesures (pas, poids, tension, résultats)"
    ),
    "your allergies": "vos allergies",
    "your treatments": "vos traitements",
    "your prescriptions": "vos prescriptions",
    "your health problems": "vos problèmes de santé",
    "your vaccinations": "vos vaccinations",
    "your contacts": "vos contacts",
    "your documents": "vos documents",
    "the contents of your documents": "le contenu de vos documents",
    "your access history": "votre historique des accès",
    "your authorizations": "vos autorisations",
    "your appointments": "vos rendez-vous",
    "your messages": "vos messages",
    "know who you are (your Carnet account)": "savoir qui vous êtes (votre compte Carnet)",
    "know which record it is connected to": "savoir à quel dossier elle est connectée",
    "stay connected when you are not using it": ("rester connectée quand vous ne l'utilisez pas"),
    "stay connected while you use it": "rester connectée pendant que vous l'utilisez",
}
