//! The texts of the legal pages, sent by the server (they are not compiled into the browser's
//! WebAssembly: the home page stays light). Static, trusted HTML.

/// A page: its `<title>`, its heading, the legal document it is (its version in force is shown
/// above it) and its HTML.
pub struct Text {
    pub title: &'static str,
    pub heading: &'static str,
    pub document: Option<&'static str>,
    pub html: &'static str,
}

pub fn find(page: &str) -> Option<Text> {
    Some(match page {
        "cgu" => Text {
            title: "Conditions générales d'utilisation",
            heading: "Conditions générales d'utilisation",
            document: Some("cgu"),
            html: r#"<h2>Objet du service</h2><p>Passerelle permet à une personne salariée de préparer et de déposer une demande de financement d'un projet de transition professionnelle (CPF de transition professionnelle), d'échanger avec son conseiller référent et avec les services de l'organisme, et de transmettre les pièces de son dossier.</p><h2>Accès et compte</h2><p>Le service est gratuit. Un seul compte est ouvert par personne, identifié par son numéro de sécurité sociale ; une adresse électronique ne peut servir qu'à un seul compte. Vous êtes responsable de la confidentialité de votre mot de passe. Sur un ordinateur partagé, pensez à vous déconnecter.</p><h2>Vos engagements</h2><p>Les informations et documents que vous transmettez doivent être exacts et vous concerner. Toute fausse déclaration peut entraîner le refus ou le remboursement du financement.</p><h2>Disponibilité</h2><p>Le service est accessible à tout moment, sauf interruption pour maintenance. Vos saisies en cours sont conservées sur votre appareil en cas de coupure et enregistrées dès le retour de la connexion.</p><h2>Évolution des conditions</h2><p>Toute nouvelle version de ces conditions vous est présentée à votre connexion suivante ; vous l'acceptez pour continuer à utiliser le service.</p>"#,
        },
        "confidentialite" => Text {
            title: "Confidentialité",
            heading: "Politique de confidentialité",
            document: Some("privacy"),
            html: r#"<h2>Données traitées</h2><p>Identité (civilité, noms, prénom, date de naissance), coordonnées, numéro de sécurité sociale, situation professionnelle, contenu de votre projet, messages et documents que vous transmettez.</p><h2>Finalité et base légale</h2><p>Instruire votre demande de financement et assurer votre accompagnement, dans le cadre de la mission de service public de l'organisme (article 6-1-e du RGPD). Le numéro de sécurité sociale est utilisé uniquement pour éviter les doublons de dossiers ; il est chiffré et n'apparaît jamais en entier à l'écran.</p><h2>Destinataires et durée</h2><p>Seuls les conseillers et services de l'organisme chargés de votre dossier y ont accès. Un accès par un autre membre du personnel, pour vous aider, exige un motif gardé dans le journal. Les données sont conservées pendant la durée de l'instruction puis le temps imposé par les obligations de contrôle des fonds publics. Un compte jamais activé est supprimé au bout de 30 jours ; l'historique de vos connexions est gardé 6 mois ; un compte sans connexion pendant 3 ans est supprimé, après un courriel d'avertissement envoyé 30 jours avant.</p><h2>Vos droits</h2><p>Vous pouvez accéder à vos données, les rectifier, en obtenir une copie et demander la suppression de votre compte depuis votre espace. Pour toute question, ou pour saisir la Commission nationale de l'informatique et des libertés (CNIL), voir la page <a href="/contact">Contact</a>.</p><h2>Cookies</h2><p>Passerelle n'utilise qu'un cookie, nécessaire à votre connexion. Aucun cookie de mesure d'audience ou de publicité, aucun service tiers.</p>"#,
        },
        "accessibilite" => Text {
            title: "Accessibilité",
            heading: "Déclaration d'accessibilité",
            document: None,
            html: r#"<p>L'organisme s'engage à rendre Passerelle accessible conformément à l'article 47 de la loi n° 2005-102 du 11 février 2005, selon le référentiel général d'amélioration de l'accessibilité (RGAA).</p><h2>État de conformité</h2><p>Passerelle est partiellement conforme au RGAA 4.1 : chaque page est contrôlée automatiquement (règles WCAG 2.1 niveaux A et AA) dans trois moteurs de navigation ; l'audit manuel complet reste à conduire.</p><h2>Ce que nous garantissons</h2><ul><li>Toutes les pages fonctionnent au clavier, avec un repère de focus visible.</li><li>Les formulaires fonctionnent même sans JavaScript.</li><li>Le texte peut être agrandi à 200 % et la page s'adapte à partir de 320 pixels de large.</li></ul><h2>Signaler un problème</h2><p>Si vous ne parvenez pas à accéder à un contenu ou à un service, <a href="/contact">écrivez-nous</a> : nous vous répondrons et vous proposerons une alternative. Si notre réponse ne vous satisfait pas, vous pouvez saisir le Défenseur des droits.</p>"#,
        },
        "contact" => Text {
            title: "Contact",
            heading: "Contact",
            document: None,
            html: r#"<p>Une fois connecté, le plus rapide est d'écrire à votre conseiller référent depuis la messagerie de votre espace : votre message arrive directement dans votre dossier.</p><h2>Vous n'arrivez pas à vous connecter</h2><p>La page de connexion propose de recevoir un nouveau lien d'activation ou de réinitialiser votre mot de passe ; ces liens arrivent en quelques minutes (pensez à regarder dans les courriers indésirables).</p><h2>Par courrier électronique</h2><p>Écrivez à <a href="mailto:contact@passerelle.example">contact@passerelle.example</a> en indiquant votre nom et votre date de naissance, jamais votre mot de passe.</p><h2>Données personnelles</h2><p>Délégué à la protection des données : <a href="mailto:dpo@passerelle.example">dpo@passerelle.example</a>.</p>"#,
        },
        _ => return None,
    })
}
