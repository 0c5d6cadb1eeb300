"""French translations of the practice pages (keys are the English phrases of the templates):
the professional's portal, and the patient's own document upload."""

FR: dict[str, str] = {
    # (phrases other catalogues already translate are not repeated here: "Emergency summary",
    # "Contacts", "Organ donation", "Advance directives", the closed record's message)
    # The professional's home
    "Find a patient": "Rechercher un patient",
    "Patient's INS or NIR": "INS ou NIR du patient",
    "The 15 characters of the carte Vitale (spaces allowed), or the INS as system|matricule.": (
        "Les 15 caractères de la carte Vitale (espaces permis), ou l'INS sous la forme "
        "système|matricule."
    ),
    "Find the record": "Trouver le dossier",
    "Your recent patients": "Vos patients récents",
    "No patient yet: find one by INS.": "Aucun patient pour l'instant : recherchez-en un par INS.",
    "born": "né(e) le",
    "last access": "dernier accès le",
    # The patient's page
    "Your access": "Votre accès",
    "A record exists for this patient, but the patient has not authorized you yet.": (
        "Un dossier existe pour ce patient, mais il ne vous a pas encore autorisé."
    ),
    "The patient consents": "Le patient consent",
    "I confirm that the patient, informed, consents to my access to their record.": (
        "Je confirme que le patient, informé, consent à mon accès à son dossier."
    ),
    "The patient also designates me as their médecin traitant": (
        "Le patient me désigne aussi comme son médecin traitant"
    ),
    "Record the patient's consent": "Enregistrer le consentement du patient",
    "Emergency access (bris de glace)": "Accès en urgence (bris de glace)",
    "Only if the patient's condition is life-threatening and they cannot consent. The reason, "
    "your name and every page you open are traced, and the patient is told.": (
        "Uniquement si l'état du patient comporte un risque immédiat pour sa santé et qu'il ne "
        "peut pas consentir. Le motif, votre nom et chaque page ouverte sont tracés, et le "
        "patient en est informé."
    ),
    "Reason for the emergency access": "Motif de l'accès en urgence",
    "Open the record in emergency mode": "Ouvrir le dossier en mode urgence",
    "Reason:": "Motif :",
    "until": "jusqu'à",
    "Every access is traced in emergency mode and the patient is told.": (
        "Chaque accès est tracé en mode urgence et le patient en est informé."
    ),
    "Back to the record": "Retour au dossier",
    "SAMU regulation": "Régulation SAMU",
    "As the SAMU regulating physician, you may open the record for the call you are handling, "
    "unless the patient opposed it. Your name and every page you open are traced in regulator "
    "mode, in the patient's access history.": (
        "En tant que médecin régulateur du SAMU, vous pouvez ouvrir le dossier pour l'appel que "
        "vous régulez, sauf si le patient s'y est opposé. Votre nom et chaque page ouverte sont "
        "tracés en mode régulation, dans l'historique des accès du patient."
    ),
    "Regulation file number (optional)": "Numéro du dossier de régulation (facultatif)",
    "Open the record in regulator mode": "Ouvrir le dossier en mode régulation",
    "The patient has opposed access by the SAMU regulator.": (
        "Le patient s'est opposé à l'accès du médecin régulateur du SAMU."
    ),
    "Regulator access (SAMU)": "Accès en régulation (SAMU)",
    "Regulator mode is reserved to SAMU regulating physicians.": (
        "Le mode régulation est réservé aux médecins régulateurs du SAMU."
    ),
    "Every access is traced in regulator mode.": "Chaque accès est tracé en mode régulation.",
    "End regulator access": "Terminer l'accès en régulation",
    "End emergency access": "Terminer l'accès en urgence",
    "Access refused": "Accès refusé",
    "The patient does not allow you to access this record: nothing in it can be shown to you, "
    "even in an emergency.": (
        "Le patient ne vous permet pas d'accéder à ce dossier : rien ne peut vous en être "
        "montré, même en urgence."
    ),
    "Closed record": "Dossier fermé",
    "The patient closed this record: it is kept read-only and cannot be consulted until the "
    "patient reopens it.": (
        "Le patient a fermé ce dossier : il est conservé en lecture seule et ne peut pas être "
        "consulté tant que le patient ne l'a pas rouvert."
    ),
    "Treatments": "Traitements",
    "Conditions": "Problèmes de santé",
    "none known": "aucun connu",
    "criticality: high": "gravité : élevée",
    "criticality: low": "gravité : faible",
    "criticality: unable-to-assess": "gravité : non évaluable",
    "No document you may see in this record.": (
        "Aucun document de ce dossier ne vous est accessible."
    ),
    "Added by the patient": "Ajouté par le patient",
    "Hidden by the patient from other professionals": (
        "Masqué par le patient aux autres professionnels"
    ),
    "Prescribe (with safety check)": "Prescrire (avec contrôle de sécurité)",
    # Documents: viewer and adding one
    "Content": "Contenu",
    "Open": "Ouvrir",
    "new window": "nouvelle fenêtre",
    "Add a document": "Ajouter un document",
    "Type of document": "Type de document",
    "— choose —": "— choisir —",
    "Title (optional)": "Titre (facultatif)",
    "File": "Fichier",
    "PDF, text, JPEG, PNG or CDA R2 (XML); at most": (
        "PDF, texte, JPEG, PNG ou CDA R2 (XML) ; au plus"
    ),
    "MB": "Mo",
    "Add to the record": "Ajouter au dossier",
    "Add to my record": "Ajouter à mon dossier",
    "The document was added to the record.": "Le document a été ajouté au dossier.",
    "Safety warning: duplicate exam": "Alerte de sécurité : examen en doublon",
    "Your own documents (e.g. your advance directives, a report you keep on paper) go into "
    "“My documents”. Your professionals see them within what their profession may see.": (
        "Vos propres documents (par exemple vos directives anticipées, un compte rendu que vous "
        "avez sur papier) vont dans « Mes documents ». Vos professionnels les voient dans la "
        "limite de ce que leur profession peut voir."
    ),
    # Prescription
    "Prescribe": "Prescrire",
    "The prescription is checked against the patient's allergies and current treatments "
    "before it is saved.": (
        "La prescription est contrôlée au regard des allergies et des traitements en cours du "
        "patient avant d'être enregistrée."
    ),
    "Medication (brand name or substance)": "Médicament (nom commercial ou substance)",
    "Dosage (optional)": "Posologie (facultatif)",
    "Check": "Contrôler",
    "Safety warnings": "Alertes de sécurité",
    "No warning": "Aucune alerte",
    "No known allergy or interaction.": "Ni allergie ni interaction connue.",
    "Prescribe anyway": "Prescrire quand même",
    "Save the prescription": "Enregistrer la prescription",
    "The prescription was recorded in the patient's profile.": (
        "La prescription a été enregistrée dans le profil du patient."
    ),
    # Messages of the services shown in these pages
    "Type the patient's INS or NIR.": "Saisissez l'INS ou le NIR du patient.",
    "The key (the last 2 digits) does not match the number: check what you typed.": (
        "La clé (les 2 derniers chiffres) ne correspond pas au numéro : vérifiez votre saisie."
    ),
    "A NIR has 15 characters: 13 for the person and a 2-digit key.": (
        "Un NIR compte 15 caractères : 13 pour la personne et une clé de 2 chiffres."
    ),
    "The INS system is not an INS OID: type the NIR alone, or the INS as system|matricule.": (
        "Le système de l'INS n'est pas un OID d'INS : saisissez le NIR seul, ou l'INS sous la "
        "forme système|matricule."
    ),
    "Type the NIR alone, or the INS as system|matricule.": (
        "Saisissez le NIR seul, ou l'INS sous la forme système|matricule."
    ),
    "This is not a valid NIR or INS: check what you typed.": (
        "Ce n'est pas un NIR ou un INS valide : vérifiez votre saisie."
    ),
    "This page is for professionals.": "Cette page est réservée aux professionnels.",
    "Emergency access is for professionals.": "L'accès en urgence est réservé aux professionnels.",
    "The reason is too long (at most 300 characters).": (
        "Le motif est trop long (300 caractères au plus)."
    ),
    "Emergency access (bris de glace) needs a reason.": (
        "L'accès en urgence (bris de glace) nécessite un motif."
    ),
    "The patient has opposed emergency access to the record.": (
        "Le patient s'est opposé à l'accès à son dossier en urgence."
    ),
    "The patient has blocked this professional.": "Le patient a bloqué ce professionnel.",
    "The patient has not authorized this professional: record the patient's consent, or use "
    "emergency access with a reason if the patient cannot consent.": (
        "Le patient n'a pas autorisé ce professionnel : enregistrez le consentement du patient, "
        "ou utilisez l'accès en urgence avec un motif si le patient ne peut pas consentir."
    ),
    "No record was found for this patient.": "Aucun dossier n'a été trouvé pour ce patient.",
    "The patient's consent must be confirmed explicitly.": (
        "Le consentement du patient doit être confirmé explicitement."
    ),
    "Only a professional can declare the patient's consent.": (
        "Seul un professionnel peut déclarer le consentement du patient."
    ),
    "Name the medication (brand name or substance).": (
        "Indiquez le médicament (nom commercial ou substance)."
    ),
    "The medication or the dosage is too long.": "Le médicament ou la posologie est trop long.",
    "Choose the type of the document in the list.": "Choisissez le type du document dans la liste.",
    "The file is larger than the limit shown under the field.": (
        "Le fichier dépasse la taille indiquée sous le champ."
    ),
    "The file is empty: choose a file to add.": "Le fichier est vide : choisissez un fichier.",
    "This kind of file is not accepted: add a PDF, a text file, a JPEG or PNG image or a CDA R2 "
    "(XML) document.": (
        "Ce type de fichier n'est pas accepté : ajoutez un PDF, un fichier texte, une image JPEG "
        "ou PNG, ou un document CDA R2 (XML)."
    ),
    "The content is not a PDF file.": "Le contenu n'est pas un fichier PDF.",
    "The content is not a JPEG file.": "Le contenu n'est pas un fichier JPEG.",
    "The content is not a PNG file.": "Le contenu n'est pas un fichier PNG.",
    "Plain text must be UTF-8.": "Le texte doit être encodé en UTF-8.",
    "XML content must be a CDA R2 document (ClinicalDocument in the urn:hl7-org:v3 namespace).": (
        "Un contenu XML doit être un document CDA R2 (ClinicalDocument dans l'espace de noms "
        "urn:hl7-org:v3)."
    ),
    "The content is empty.": "Le contenu est vide.",
    "Only the patient and professionals add documents.": (
        "Seuls le patient et les professionnels ajoutent des documents."
    ),
    "A document with this masterIdentifier (uniqueId) already exists; replace it with "
    "relatesTo instead.": "Ce document existe déjà dans le dossier.",
    # Who sees a document added from the portal (domain.md §1.5)
    "Who sees it": "Qui le voit",
    "Hidden from other professionals (you and the patient's médecins traitants still see it)": (
        "Masqué aux autres professionnels (vous et les médecins traitants du patient le voyez "
        "toujours)"
    ),
    "Not visible to the patient yet (until you tell them in person)": (
        "Pas encore visible par le patient (jusqu'à ce que vous le lui annonciez)"
    ),
    "This patient is a minor: may the legal representatives see this document?": (
        "Ce patient est mineur : ses représentants légaux peuvent-ils voir ce document ?"
    ),
    "Yes": "Oui",
    "No: hidden from the legal representatives (the minor's confidential care)": (
        "Non : masqué aux représentants légaux (soins confidentiels du mineur)"
    ),
    "No: hidden from the legal representatives (secret connection)": (
        "Non : masqué aux représentants légaux (connexion secrète)"
    ),
    "Say whether the minor's legal representatives may see this document.": (
        "Indiquez si les représentants légaux du mineur peuvent voir ce document."
    ),
    "A document cannot be both hidden from professionals (MASQUE_PS) and invisible to the "
    "patient (INVISIBLE_PATIENT).": (
        "Un document ne peut pas être à la fois masqué aux professionnels et invisible pour le "
        "patient."
    ),
    "Not yet visible to the patient": "Pas encore visible par le patient",
    # A secret connection to a minor's record
    "Secret connection": "Connexion secrète",
    "On this minor's record, what you do is not shown to the legal representatives, and what "
    "you add must be hidden from them.": (
        "Sur le dossier de ce mineur, ce que vous faites n'est pas montré aux représentants "
        "légaux, et ce que vous ajoutez doit leur être masqué."
    ),
    "End the secret connection": "Terminer la connexion secrète",
    "When you see this minor without their legal representatives (contraception, a "
    "confidential consultation…), open a secret connection: what you do on the record is then "
    "not shown to the representatives, nor told to them, and what you add is hidden from them.": (
        "Quand vous recevez ce mineur sans ses représentants légaux (contraception, consultation "
        "confidentielle…), ouvrez une connexion secrète : ce que vous faites sur le dossier "
        "n'est alors ni montré ni signalé aux représentants, et ce que vous ajoutez leur est "
        "masqué."
    ),
    "Open a secret connection": "Ouvrir une connexion secrète",
    "Open in a secret connection": "Ouvrir en connexion secrète",
    "Open in a secret connection:": "Ouvrir en connexion secrète :",
    "Secret connection: a minor seen without their legal representatives": (
        "Connexion secrète : mineur reçu sans ses représentants légaux"
    ),
    "A secret connection is for a minor's record.": (
        "Une connexion secrète ne s'ouvre que sur le dossier d'un mineur."
    ),
    "A secret connection is for professionals.": (
        "La connexion secrète est réservée aux professionnels."
    ),
    "In a secret connection to a minor's record, what is added must be hidden from the legal "
    "representatives (INVISIBLE_REPRESENTANTS_LEGAUX).": (
        "Dans une connexion secrète au dossier d'un mineur, ce qui est ajouté doit être masqué "
        "aux représentants légaux."
    ),
    "In a secret connection to a minor's record, only documents, appointments and messages "
    "hidden from the legal representatives may be added; this is shown to them.": (
        "Dans une connexion secrète au dossier d'un mineur, seuls des documents, rendez-vous et "
        "messages masqués aux représentants légaux peuvent être ajoutés ; ceci leur est montré."
    ),
}
