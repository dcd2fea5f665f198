//! The questions of the project form, section by section, and how each answer is checked.
//!
//! A draft is a map from field key to the text typed. Drafts are saved as typed, even half
//! done; the checks below run beside each field when it is left, and all together before
//! submission, with the same French messages in the browser and on the server.

use std::collections::BTreeMap;

use crate::domain::amount::{Euros, Hours};
use crate::domain::codes::{ActivityNumber, CertificationCode, RomeCode};
use crate::domain::date::CalendarDate;
use crate::domain::Siret;

/// The answers of a project, by field key. Empty answers are not stored.
pub type Draft = BTreeMap<String, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One line, at most [`SHORT_MAX`] characters.
    Text,
    /// Several paragraphs, at most [`LONG_MAX`] characters.
    LongText,
    Siret,
    Date,
    Euros,
    Hours,
    Rome,
    ActivityNumber,
    Certification,
    /// One of these (stored value, label).
    Choice(&'static [(&'static str, &'static str)]),
}

pub const SHORT_MAX: usize = 300;
pub const LONG_MAX: usize = 20_000;

#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    pub kind: Kind,
    pub required: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct SectionDef {
    pub id: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub fields: &'static [FieldDef],
}

const fn field(key: &'static str, label: &'static str, hint: Option<&'static str>, kind: Kind, required: bool) -> FieldDef {
    FieldDef { key, label, hint, kind, required }
}

pub const CONTRACTS: &[(&str, &str)] =
    &[("cdi", "CDI"), ("cdd", "CDD"), ("interim", "Intérim"), ("fonction_publique", "Agent de la fonction publique"), ("autre", "Autre")];

pub const MODALITIES: &[(&str, &str)] = &[("presentiel", "En présentiel"), ("distance", "À distance"), ("mixte", "Mixte (présentiel et à distance)")];

pub const SECTIONS: &[SectionDef] = &[
    SectionDef {
        id: "situation",
        title: "Situation actuelle",
        intro: "Votre emploi aujourd'hui : ces informations figurent sur vos bulletins de salaire.",
        fields: &[
            field("employeur", "Employeur", None, Kind::Text, true),
            field("siret", "SIRET de l'établissement", Some("14 chiffres, en haut de vos bulletins de salaire."), Kind::Siret, true),
            field("contrat", "Type de contrat", None, Kind::Choice(CONTRACTS), true),
            field("date_entree", "Date d'entrée chez cet employeur", Some("Pour calculer votre ancienneté. Format JJ/MM/AAAA."), Kind::Date, true),
            field("poste", "Poste occupé", None, Kind::Text, true),
        ],
    },
    SectionDef {
        id: "metier",
        title: "Métier visé",
        intro: "Le métier que vous souhaitez exercer, et ce que vous avez fait pour le connaître.",
        fields: &[
            field("metier_intitule", "Intitulé du métier", None, Kind::Text, true),
            field("code_rome", "Code ROME", Some("Une lettre et 4 chiffres, par exemple M1805 (fiche métier de France Travail)."), Kind::Rome, false),
            field(
                "metier_description",
                "Description du métier",
                Some("Les activités, les conditions de travail, les débouchés dans votre région."),
                Kind::LongText,
                true,
            ),
            field("enquete_metier", "Enquête métier", Some("Ce que vous avez lu ou recherché sur le métier."), Kind::LongText, false),
            field("rencontres", "Rencontres de professionnels", Some("Qui avez-vous rencontré, et ce que vous en retenez."), Kind::LongText, false),
            field(
                "immersions",
                "Immersions",
                Some("Stages d'observation ou périodes de mise en situation, avec leurs dates."),
                Kind::LongText,
                false,
            ),
        ],
    },
    SectionDef {
        id: "formation",
        title: "Formation",
        intro: "La formation qui vous mène à ce métier : ces informations figurent sur le devis de l'organisme.",
        fields: &[
            field("organisme", "Organisme de formation", None, Kind::Text, true),
            field(
                "numero_declaration",
                "Numéro de déclaration d'activité",
                Some("11 chiffres, sur le devis de l'organisme."),
                Kind::ActivityNumber,
                true,
            ),
            field("certification", "Certification préparée", None, Kind::Text, true),
            field("code_certification", "Code RNCP ou RS", Some("Par exemple RNCP34567 (France compétences)."), Kind::Certification, true),
            field("date_debut", "Date de début", Some("Format JJ/MM/AAAA."), Kind::Date, true),
            field("date_fin", "Date de fin", Some("Format JJ/MM/AAAA."), Kind::Date, true),
            field("heures_centre", "Heures en centre de formation", None, Kind::Hours, true),
            field("heures_entreprise", "Heures en entreprise (stage)", None, Kind::Hours, false),
            field("modalite", "Modalité", None, Kind::Choice(MODALITIES), true),
        ],
    },
    SectionDef {
        id: "financement",
        title: "Financement",
        intro: "Le coût de la formation et ce qui est déjà financé par ailleurs.",
        fields: &[
            field("cout_pedagogique", "Coût pédagogique", Some("En euros, tel qu'il figure sur le devis."), Kind::Euros, true),
            field(
                "cofinancements",
                "Cofinancements",
                Some("Les autres financeurs (employeur, région…) et leurs montants, s'il y en a."),
                Kind::LongText,
                false,
            ),
        ],
    },
    SectionDef {
        id: "motivation",
        title: "Motivation",
        intro: "Pourquoi ce projet, pourquoi maintenant : écrivez avec vos mots.",
        fields: &[field(
            "motivation",
            "Votre motivation",
            Some("Plusieurs paragraphes si vous le souhaitez. Votre texte est conservé à chaque frappe."),
            Kind::LongText,
            true,
        )],
    },
];

/// The documents to send with the project (uploaded from "Mes documents").
pub const EXPECTED_ATTACHMENTS: &[&str] = &[
    "Le devis de l'organisme de formation, avec le programme",
    "Vos trois derniers bulletins de salaire",
    "L'autorisation d'absence de votre employeur",
    "Votre CV",
    "Une pièce d'identité",
];

pub fn all_fields() -> impl Iterator<Item = &'static FieldDef> {
    SECTIONS.iter().flat_map(|s| s.fields.iter())
}

pub fn find(key: &str) -> Option<&'static FieldDef> {
    all_fields().find(|f| f.key == key)
}

pub fn max_len(kind: Kind) -> usize {
    if kind == Kind::LongText {
        LONG_MAX
    } else {
        SHORT_MAX
    }
}

/// The label of a choice value, or the value itself.
pub fn choice_label(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Choice(options) => options.iter().find(|(v, _)| *v == value).map(|(_, l)| l.to_string()).unwrap_or_else(|| value.to_string()),
        _ => value.to_string(),
    }
}

/// Checks one non-empty answer: `Err` with the French message to show beside the field.
pub fn check(field: &FieldDef, value: &str) -> Result<(), String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(());
    }
    let result = match field.kind {
        Kind::Text | Kind::LongText => Ok(()),
        Kind::Siret => Siret::parse(value).map(|_| ()),
        Kind::Date => CalendarDate::parse(value, "").map(|_| ()),
        Kind::Euros => Euros::parse(value).map(|_| ()),
        Kind::Hours => Hours::parse(value).map(|_| ()),
        Kind::Rome => RomeCode::parse(value).map(|_| ()),
        Kind::ActivityNumber => ActivityNumber::parse(value).map(|_| ()),
        Kind::Certification => CertificationCode::parse(value).map(|_| ()),
        Kind::Choice(options) => {
            if options.iter().any(|(v, _)| *v == value) {
                Ok(())
            } else {
                Err("Choisissez une des réponses proposées.")
            }
        }
    };
    result.map_err(str::to_string)?;
    if value.chars().count() > max_len(field.kind) {
        return Err(format!("Ce texte dépasse {} caractères : raccourcissez-le.", max_len(field.kind)));
    }
    Ok(())
}

/// Everything that stops submission, in page order: missing required answers, answers in the
/// wrong form, and dates in the wrong order. Each names its field.
pub fn problems(draft: &Draft) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for field in all_fields() {
        let value = draft.get(field.key).map(|v| v.trim()).unwrap_or("");
        if value.is_empty() {
            if field.required {
                found.push((field.key.to_string(), format!("Renseignez « {} ».", field.label)));
            }
        } else if let Err(message) = check(field, value) {
            found.push((field.key.to_string(), message));
        } else if field.key == "date_fin" {
            let start = draft.get("date_debut").and_then(|d| CalendarDate::parse(d, "").ok());
            let end = CalendarDate::parse(value, "").ok();
            if let (Some(start), Some(end)) = (start, end) {
                if end < start {
                    found.push((field.key.to_string(), "La date de fin précède la date de début : vérifiez-les.".to_string()));
                }
            }
        }
    }
    found
}

/// Filled required answers out of all required answers, for one section or (None) all.
pub fn progress(draft: &Draft, section: Option<&SectionDef>) -> (usize, usize) {
    let sections: Vec<&SectionDef> = match section {
        Some(s) => vec![s],
        None => SECTIONS.iter().collect(),
    };
    let mut done = 0;
    let mut total = 0;
    for field in sections.iter().flat_map(|s| s.fields.iter()).filter(|f| f.required) {
        total += 1;
        let value = draft.get(field.key).map(|v| v.trim()).unwrap_or("");
        if !value.is_empty() && check(field, value).is_ok() {
            done += 1;
        }
    }
    (done, total)
}

/// A draft without empty answers, so that "nothing typed" and "emptied" compare equal.
pub fn normalized(draft: Draft) -> Draft {
    draft.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

/// How an answer is shown in the recap: choice labels, dates as JJ/MM/AAAA, amounts in euros.
pub fn display(field: &FieldDef, value: &str) -> String {
    match field.kind {
        Kind::Choice(_) => choice_label(field.kind, value),
        Kind::Date => CalendarDate::parse(value, "").map(|d| d.french()).unwrap_or_else(|_| value.to_string()),
        Kind::Euros => Euros::parse(value).map(|e| e.french()).unwrap_or_else(|_| value.to_string()),
        Kind::Hours => Hours::parse(value).map(|h| format!("{} h", h.0)).unwrap_or_else(|_| value.to_string()),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn complete_draft() -> Draft {
        [
            ("employeur", "Boulangerie Martin"),
            ("siret", "73282932000074"),
            ("contrat", "cdi"),
            ("date_entree", "2015-09-01"),
            ("poste", "Vendeuse"),
            ("metier_intitule", "Infirmière"),
            ("metier_description", "Soins."),
            ("organisme", "IFSI de Lyon"),
            ("numero_declaration", "11751234575"),
            ("certification", "Diplôme d'État d'infirmier"),
            ("code_certification", "RNCP8940"),
            ("date_debut", "2027-09-01"),
            ("date_fin", "2030-07-01"),
            ("heures_centre", "2100"),
            ("modalite", "presentiel"),
            ("cout_pedagogique", "24 000"),
            ("motivation", "Depuis toujours…"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<_> = all_fields().map(|f| f.key).collect();
        let count = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), count);
    }

    #[test]
    fn a_complete_draft_has_no_problem_and_full_progress() {
        let draft = complete_draft();
        assert_eq!(problems(&draft), Vec::<(String, String)>::new());
        let (done, total) = progress(&draft, None);
        assert_eq!(done, total);
    }

    #[test]
    fn missing_invalid_and_misordered_answers_are_each_named() {
        let mut draft = complete_draft();
        draft.remove("motivation");
        draft.insert("siret".into(), "73282932000075".into());
        draft.insert("date_fin".into(), "2026-01-01".into());
        let keys: Vec<String> = problems(&draft).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["siret", "date_fin", "motivation"]);
    }
}
