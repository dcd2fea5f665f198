use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Accueil"/>
        <h1>"Préparez votre transition professionnelle, en ligne et sans appel"</h1>
        <p class="lead">
            "Passerelle est votre espace personnel pour le projet de transition professionnelle "
            "financé par le CPF de transition professionnelle. Vous y constituez votre dossier, "
            "échangez avec votre conseiller référent et suivez chaque étape."
        </p>
        <section aria-labelledby="ce-que-vous-pouvez-faire">
            <h2 id="ce-que-vous-pouvez-faire">"Ce que vous pouvez faire ici"</h2>
            <ul class="feature-list">
                <li>
                    <strong>"Rédiger votre projet à votre rythme. "</strong>
                    "Chaque saisie est enregistrée au fur et à mesure, même si la connexion "
                    "internet est coupée : vous ne perdez rien."
                </li>
                <li>
                    <strong>"Échanger avec votre conseiller référent "</strong>
                    "et avec les services d'accueil, d'instruction et de paiement, par messages."
                </li>
                <li>
                    <strong>"Envoyer vos documents "</strong>
                    "(pièce d'identité, devis de formation, bulletins de salaire…) en PDF, JPEG ou PNG."
                </li>
                <li>
                    <strong>"Suivre votre dossier : "</strong>
                    "date de dépôt, instruction, décision, et l'historique de chaque étape."
                </li>
            </ul>
        </section>
        <section aria-labelledby="comment-ca-marche">
            <h2 id="comment-ca-marche">"Comment ça marche"</h2>
            <ol class="steps">
                <li>"Créez votre compte avec votre adresse électronique et votre numéro de sécurité sociale."</li>
                <li>"Activez-le grâce au lien reçu par courriel."</li>
                <li>"Complétez votre profil, puis rédigez et déposez votre projet."</li>
            </ol>
            <p>
                "Passerelle fonctionne avec tous les navigateurs récents, sur ordinateur, "
                "tablette et téléphone. "
                <A href="/connexion">"Vous avez déjà un compte ? Connectez-vous."</A>
            </p>
        </section>
    }
}
