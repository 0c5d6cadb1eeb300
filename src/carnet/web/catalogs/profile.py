"""French translations of the profile, settings, activation, opposition and closure pages
(keys are the English phrases of the templates and of the messages they show)."""

FR: dict[str, str] = {
    # --- navigation and sections
    "Medical profile": "Profil médical",
    "Agenda": "Agenda",
    "Messages": "Messages",
    "Connected apps": "Applications connectées",
    "Settings": "Paramètres",
    "Sections of the profile": "Rubriques du profil",
    "Allergies and intolerances": "Allergies et intolérances",
    "Current treatments": "Traitements en cours",
    "Health problems": "Problèmes de santé",
    "Vaccinations": "Vaccinations",
    "Measurements": "Mesures",
    "Emergency contacts": "Contacts d'urgence",
    "Wishes": "Volontés",
    "Advance directives": "Directives anticipées",
    "Allergies": "Allergies",
    "Blood group": "Groupe sanguin",
    "Contacts": "Contacts",
    "Organ donation": "Don d'organes",
    # --- the profile page
    "What you and your professionals have recorded. You can add and change your own entries; "
    "entries recorded by a professional are read-only for you.": (
        "Ce que vous et vos professionnels de santé avez enregistré. Vous pouvez ajouter et "
        "modifier vos propres informations ; celles saisies par un professionnel ne sont "
        "modifiables que par lui."
    ),
    "Print the emergency summary": "Imprimer le résumé d'urgence",
    "Download it as PDF": "Le télécharger en PDF",
    "This record is closed: it can be read but not changed. You can reopen it from the settings.": (
        "Ce dossier est fermé : il peut être consulté mais plus modifié. Vous pouvez le "
        "rouvrir depuis les paramètres."
    ),
    "Nothing was saved.": "Rien n'a été enregistré.",
    "Nothing recorded.": "Rien n'est renseigné.",
    "Earlier values": "Valeurs précédentes",
    "Sent by the app": "Envoyé par l'application",
    "Entered by": "Saisi par",
    "a professional": "un professionnel",
    "on": "le",
    "updated on": "modifié le",
    "Change": "Modifier",
    "Remove": "Retirer",
    "Read-only: ask the professional to correct it.": (
        "Lecture seule : demandez au professionnel de le corriger."
    ),
    "Severe": "Sévère",
    "Mild": "Modérée",
    "Severity unknown": "Gravité inconnue",
    "Emergency contact": "Contact d'urgence",
    "Trusted person": "Personne de confiance",
    "Contact": "Contact",
    "yes": "oui",
    "no": "non",
    "Add an allergy or intolerance": "Ajouter une allergie ou une intolérance",
    "Add a treatment": "Ajouter un traitement",
    "Add a health problem": "Ajouter un problème de santé",
    "Add a vaccination": "Ajouter une vaccination",
    "Add a measurement": "Ajouter une mesure",
    "Give your blood group": "Indiquer votre groupe sanguin",
    "Add a contact": "Ajouter un contact",
    "Say your wish on organ donation": "Indiquer votre choix sur le don d'organes",
    "Search the reference list by name": "Rechercher par nom dans la liste de référence",
    "Add": "Ajouter",
    "Save": "Enregistrer",
    "Cancel": "Annuler",
    "Change an entry": "Modifier une information",
    "Advance directives say which care you want or refuse at the end of life, if you can no "
    "longer say it. They are kept as documents of your record.": (
        "Les directives anticipées disent quels soins vous souhaitez ou refusez en fin de vie, "
        "si vous ne pouvez plus l'exprimer. Elles sont conservées comme documents de votre "
        "dossier."
    ),
    "No advance directives in this record.": "Aucune directive anticipée dans ce dossier.",
    "Add or replace your advance directives on the documents page": (
        "Ajouter ou remplacer vos directives anticipées depuis la page Documents"
    ),
    # --- the forms' fields
    "Found in the reference list": "Trouvés dans la liste de référence",
    "Nothing found: your text will be kept as typed.": (
        "Rien trouvé : votre texte sera gardé tel quel."
    ),
    "None of these: keep my text": "Aucun de ceux-ci : garder mon texte",
    "Substance, medicine or food": "Substance, médicament ou aliment",
    "As written on your allergy card, e.g. penicillin, peanuts.": (
        "Comme sur votre carte d'allergie, par exemple pénicilline, arachide."
    ),
    "Kind": "Type",
    "Not specified": "Non précisé",
    "Medicine": "Médicament",
    "Food": "Aliment",
    "Environment (pollen, animals…)": "Environnement (pollens, animaux…)",
    "Biological product": "Produit biologique",
    "Severity": "Gravité",
    "Severe (e.g. anaphylaxis)": "Sévère (par exemple choc anaphylactique)",
    "I don't know": "Je ne sais pas",
    "Reaction": "Réaction",
    "e.g. hives, swelling, breathing difficulty.": (
        "par exemple urticaire, gonflement, gêne respiratoire."
    ),
    "Since": "Depuis le",
    "Name and strength, e.g. Levothyrox 75 µg.": "Nom et dosage, par exemple Levothyrox 75 µg.",
    "How you take it": "Comment vous le prenez",
    "e.g. 1 tablet in the morning.": "par exemple 1 comprimé le matin.",
    "Health problem or past surgery": "Problème de santé ou opération passée",
    "Vaccine": "Vaccin",
    "Other (type its name below)": "Autre (indiquez son nom ci-dessous)",
    "Name of the vaccine (if not in the list) or brand": (
        "Nom du vaccin (s'il n'est pas dans la liste) ou marque"
    ),
    "e.g. Boostrixtetra, lot number.": "par exemple Boostrixtetra, numéro de lot.",
    "Date of the injection": "Date de l'injection",
    "Measurement": "Mesure",
    "Choose": "Choisir",
    "Value": "Valeur",
    "A number, in the unit shown with the measurement.": (
        "Un nombre, dans l'unité indiquée avec la mesure."
    ),
    "Date": "Date",
    "Today if left empty.": "Aujourd'hui si vous la laissez vide.",
    "First name": "Prénom",
    "Last name": "Nom",
    "Role": "Rôle",
    "Trusted person (personne de confiance)": "Personne de confiance",
    "Relationship": "Lien",
    "e.g. husband, daughter, neighbour.": "par exemple époux, fille, voisin.",
    "Phone": "Téléphone",
    "Organ and tissue donation after my death": "Don d'organes et de tissus après mon décès",
    "I agree to donate my organs and tissues": "J'accepte de donner mes organes et tissus",
    "I do not agree": "Je refuse",
    "In France, refusing organ donation is registered on the national refusal register "
    "(registre national des refus); telling your relatives matters too.": (
        "En France, le refus du don d'organes s'inscrit au registre national des refus ; "
        "le dire à vos proches compte aussi."
    ),
    # --- the forms' errors
    "Unknown section.": "Rubrique inconnue.",
    "This text is too long.": "Ce texte est trop long.",
    "Give the date.": "Indiquez la date.",
    "Give the date as DD/MM/YYYY.": "Indiquez la date au format JJ/MM/AAAA.",
    "The date cannot be in the future.": "La date ne peut pas être dans le futur.",
    "Choose a substance from the list, or type its name.": (
        "Choisissez une substance dans la liste, ou tapez son nom."
    ),
    "Give the substance or the food you react to.": (
        "Indiquez la substance ou l'aliment auquel vous réagissez."
    ),
    "Choose a kind from the list.": "Choisissez un type dans la liste.",
    "Choose a severity from the list.": "Choisissez une gravité dans la liste.",
    "Choose a medicine from the list, or type its name.": (
        "Choisissez un médicament dans la liste, ou tapez son nom."
    ),
    "Give the name of the medicine.": "Indiquez le nom du médicament.",
    "Give the health problem.": "Indiquez le problème de santé.",
    "Choose a vaccine from the list.": "Choisissez un vaccin dans la liste.",
    "Choose a vaccine from the list, or type its name.": (
        "Choisissez un vaccin dans la liste, ou tapez son nom."
    ),
    "Give a number, e.g. 62.5.": "Indiquez un nombre, par exemple 62,5.",
    "Choose your blood group from the list.": "Choisissez votre groupe sanguin dans la liste.",
    "Choose what you measured.": "Choisissez ce que vous avez mesuré.",
    "Give the value you measured.": "Indiquez la valeur mesurée.",
    "This value is not plausible for this measurement.": (
        "Cette valeur n'est pas plausible pour cette mesure."
    ),
    "Give the person's first name.": "Indiquez le prénom de la personne.",
    "Give the person's last name.": "Indiquez le nom de famille de la personne.",
    "Choose a role from the list.": "Choisissez un rôle dans la liste.",
    "Give a phone number, e.g. 06 12 34 56 78.": (
        "Indiquez un numéro de téléphone, par exemple 06 12 34 56 78."
    ),
    "Say whether you agree to organ donation.": "Dites si vous acceptez le don d'organes.",
    "No such entry.": "Information introuvable.",
    "This entry was recorded by a professional: only they can change it. Ask them to correct "
    "it if it is wrong.": (
        "Cette information a été saisie par un professionnel : lui seul peut la modifier. "
        "Demandez-lui de la corriger si elle est fausse."
    ),
    "A code or a text naming the entry is required.": (
        "Un code ou un texte désignant l'information est nécessaire."
    ),
    "The record is closed: it can no longer be changed.": (
        "Le dossier est fermé : il ne peut plus être modifié."
    ),
    # --- the emergency summary
    "Emergency summary": "Résumé d'urgence",
    "Back to the medical profile": "Retour au profil médical",
    "Print this page with your browser (Ctrl+P or the Print menu) and keep it with your "
    "identity papers.": (
        "Imprimez cette page avec votre navigateur (Ctrl+P ou le menu Imprimer) et gardez-la "
        "avec vos papiers d'identité."
    ),
    "born on": "né(e) le",
    "No information.": "Aucune information.",
    "Not given.": "Non renseigné.",
    "Printed from Carnet on": "Imprimé depuis Carnet le",
}

FR.update(
    {
        # --- sign-in page links
        "First visit?": "Première visite ?",
        "Activate your record with the code of your insurer's letter": (
            "Activer votre dossier avec le code du courrier de votre caisse"
        ),
        # --- activation and opposition
        "Activate your record": "Activer votre dossier",
        "Your record is active and your account is created.": (
            "Votre dossier est activé et votre compte est créé."
        ),
        "Sign in with your identifier and your password; a one-time code will then be sent to "
        "you by e-mail.": (
            "Connectez-vous avec votre identifiant et votre mot de passe ; un code à usage unique "
            "vous sera ensuite envoyé par e-mail."
        ),
        "You received a letter (or an e-mail) from your health insurer with an activation code. "
        "With it, you open your record and create your account.": (
            "Vous avez reçu un courrier (ou un e-mail) de votre caisse d'assurance maladie avec "
            "un code d'activation. Avec lui, vous ouvrez votre dossier et créez votre compte."
        ),
        "Who you are": "Qui vous êtes",
        "Social security number": "Numéro de sécurité sociale",
        "The 15 characters on your carte Vitale, e.g. 2 75 03 31 555 004 25.": (
            "Les 15 caractères de votre carte Vitale, par exemple 2 75 03 31 555 004 25."
        ),
        "Date of birth": "Date de naissance",
        "Activation code": "Code d'activation",
        "As printed on your letter.": "Tel qu'il figure sur votre courrier.",
        "Your account": "Votre compte",
        "E-mail address (your identifier)": "Adresse e-mail (votre identifiant)",
        "At least 12 characters, mixing letters with digits or symbols.": (
            "Au moins 12 caractères, mêlant lettres et chiffres ou symboles."
        ),
        "Password again": "Confirmez le mot de passe",
        "Activate my record": "Activer mon dossier",
        "You do not want a record?": "Vous ne voulez pas de dossier ?",
        "Oppose its creation": "Vous opposer à sa création",
        "Oppose the creation of your record": "Vous opposer à la création de votre dossier",
        "Your opposition is recorded: no record will be created for you.": (
            "Votre opposition est enregistrée : aucun dossier ne sera créé pour vous."
        ),
        "If you change your mind later, you can still ask for a record: with a new code from "
        "your insurer, activate it online, or ask a professional or your insurer's counter.": (
            "Si vous changez d'avis, vous pourrez toujours demander un dossier : activez-le en "
            "ligne avec un nouveau code de votre caisse, ou demandez-le à un professionnel ou "
            "au guichet de votre caisse."
        ),
        "Your health insurer creates a record for every insured person. The letter that told "
        "you about it gives you 6 weeks to oppose it; after that, the record opens. Opposing "
        "now means no record is created; you can change your mind later.": (
            "Votre caisse d'assurance maladie crée un dossier pour chaque assuré. Le courrier "
            "qui vous l'annonce vous laisse 6 semaines pour vous y opposer ; ensuite, le dossier "
            "s'ouvre. Si vous vous opposez maintenant, aucun dossier n'est créé ; vous pourrez "
            "changer d'avis plus tard."
        ),
        "Code of the letter": "Code du courrier",
        "I oppose the creation of my record": "Je m'oppose à la création de mon dossier",
        "I want my record: activate it": "Je veux mon dossier : l'activer",
        # --- their errors
        "This social security number is not valid: check its 15 characters.": (
            "Ce numéro de sécurité sociale n'est pas valide : vérifiez ses 15 caractères."
        ),
        "Give your social security number.": "Indiquez votre numéro de sécurité sociale.",
        "Give your date of birth.": "Indiquez votre date de naissance.",
        "Give your date of birth as DD/MM/YYYY.": (
            "Indiquez votre date de naissance au format JJ/MM/AAAA."
        ),
        "Give the code of your letter.": "Indiquez le code de votre courrier.",
        "Give your e-mail address: it will be your identifier.": (
            "Indiquez votre adresse e-mail : ce sera votre identifiant."
        ),
        "The two passwords are different.": "Les deux mots de passe sont différents.",
        "This identifier is already taken.": "Cet identifiant est déjà utilisé.",
        "This person already has an account.": "Cette personne a déjà un compte.",
        "The password must have at least 12 characters.": (
            "Le mot de passe doit comporter au moins 12 caractères."
        ),
        "The password must mix letters with digits or symbols.": (
            "Le mot de passe doit mêler des lettres et des chiffres ou des symboles."
        ),
        "The activation code is not valid for this person.": (
            "Le code d'activation n'est pas valable pour cette personne."
        ),
        "This activation code is locked after too many wrong tries; ask for a new one.": (
            "Ce code d'activation est bloqué après trop d'essais erronés ; demandez-en un nouveau."
        ),
        "Too many wrong tries: this activation code is now locked; ask for a new one.": (
            "Trop d'essais erronés : ce code d'activation est désormais bloqué ; "
            "demandez-en un nouveau."
        ),
        "This record is closed: reopen it from the reactivation page.": (
            "Ce dossier est fermé : rouvrez-le depuis la page de réactivation."
        ),
        "There is no record creation to oppose (the window may have ended).": (
            "Il n'y a pas de création de dossier à laquelle s'opposer (le délai est peut-être "
            "passé)."
        ),
        # --- settings
        "Your settings are saved.": "Vos paramètres sont enregistrés.",
        "Notifications": "Notifications",
        "We tell you when a professional opens your record for the first time, after an "
        "emergency access, and about your appointments and new messages.": (
            "Nous vous prévenons quand un professionnel ouvre votre dossier pour la première "
            "fois, après un accès en urgence, et pour vos rendez-vous et nouveaux messages."
        ),
        "Notify me": "Me prévenir",
        "By e-mail": "Par e-mail",
        "By SMS": "Par SMS",
        "Sign-in code": "Code de connexion",
        "Send my one-time sign-in code": "M'envoyer mon code de connexion à usage unique",
        "Your e-mail address and mobile number are those your health insurer knows; to change "
        "them, contact your insurer.": (
            "Votre adresse e-mail et votre numéro de mobile sont ceux que connaît votre caisse "
            "d'assurance maladie ; pour les changer, contactez-la."
        ),
        "Language of the portal": "Langue du portail",
        "Save my settings": "Enregistrer mes paramètres",
        "The record of": "Le dossier de",
        "This record is closed since": "Ce dossier est fermé depuis le",
        "You asked for its definitive deletion: it will be deleted and can no longer be "
        "reopened.": (
            "Vous avez demandé sa suppression définitive : il sera supprimé et ne peut plus être "
            "rouvert."
        ),
        "Its content is kept, read-only, until": (
            "Son contenu est conservé, en lecture seule, jusqu'au"
        ),
        ", then deleted for good. Until then you can reopen it: professionals will again be "
        "able to read and feed it, within your authorizations.": (
            ", puis supprimé définitivement. D'ici là, vous pouvez le rouvrir : les "
            "professionnels pourront de nouveau le consulter et l'alimenter, dans la limite de "
            "vos autorisations."
        ),
        "I want to reopen this record": "Je veux rouvrir ce dossier",
        "Reopen the record": "Rouvrir le dossier",
        "The record is open.": "Le dossier est ouvert.",
        "You can close it at any time. Its content is then kept for 10 years, read-only, and "
        "can be reopened during that time.": (
            "Vous pouvez le fermer à tout moment. Son contenu est alors conservé 10 ans, en "
            "lecture seule, et peut être rouvert pendant ce temps."
        ),
        "Close the record": "Fermer le dossier",
        "Choose e-mail or SMS.": "Choisissez l'e-mail ou le SMS.",
        "Choose French or English.": "Choisissez le français ou l'anglais.",
        "No mobile number is known for you: the code cannot be sent by SMS.": (
            "Aucun numéro de mobile n'est connu pour vous : le code ne peut pas être envoyé "
            "par SMS."
        ),
        "No e-mail address is known for you: the code cannot be sent by e-mail.": (
            "Aucune adresse e-mail n'est connue pour vous : le code ne peut pas être envoyé "
            "par e-mail."
        ),
        "No mobile number is known for you.": "Aucun numéro de mobile n'est connu pour vous.",
        "no mobile number known": "aucun numéro de mobile connu",
        "No e-mail address is known for you.": "Aucune adresse e-mail n'est connue pour vous.",
        "Reopening a record needs the patient's explicit consent.": (
            "Rouvrir un dossier nécessite le consentement explicite du patient : cochez la case."
        ),
        "The record is not closed.": "Le dossier n'est pas fermé.",
        "Definitive deletion was requested: this record can no longer be reopened.": (
            "La suppression définitive a été demandée : ce dossier ne peut plus être rouvert."
        ),
        "The record is already closed.": "Le dossier est déjà fermé.",
        # --- closure
        "What closing means": "Ce que signifie la fermeture",
        "No professional can read the record or add anything to it any more, not even in an "
        "emergency.": (
            "Plus aucun professionnel ne peut consulter le dossier ni l'alimenter, même en urgence."
        ),
        "Its content is not deleted at once: the law asks us to keep it for 10 years, "
        "read-only. Only you can still see it, by signing in.": (
            "Son contenu n'est pas supprimé tout de suite : la loi nous demande de le conserver "
            "10 ans, en lecture seule. Vous seul pouvez encore le voir, en vous connectant."
        ),
        "During those 10 years, you can reopen it from the settings: everything will be as it "
        "was.": (
            "Pendant ces 10 ans, vous pouvez le rouvrir depuis les paramètres : tout sera comme "
            "avant."
        ),
        "After 10 years, it is deleted for good, with the history of who read it.": (
            "Au bout de 10 ans, il est supprimé définitivement, avec l'historique des accès."
        ),
        "Why are you closing it? (optional)": "Pourquoi le fermez-vous ? (facultatif)",
        "I have read what closing means and I want to close the record": (
            "J'ai lu ce que signifie la fermeture et je veux fermer le dossier"
        ),
        "Definitive deletion (optional)": "Suppression définitive (facultatif)",
        "Delete it for good instead of keeping it 10 years": (
            "Le supprimer définitivement au lieu de le conserver 10 ans"
        ),
        "It can then never be reopened, and its documents are destroyed at the next purge.": (
            "Il ne pourra alors jamais être rouvert, et ses documents seront détruits à la "
            "prochaine purge."
        ),
        "I understand that this deletion cannot be undone": (
            "Je comprends que cette suppression est irréversible"
        ),
        "Tick the box to confirm that you want to close the record.": (
            "Cochez la case pour confirmer que vous voulez fermer le dossier."
        ),
        "Tick the second box to confirm the definitive deletion.": (
            "Cochez la seconde case pour confirmer la suppression définitive."
        ),
    }
)
