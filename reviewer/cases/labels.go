package cases

import (
	"regexp"
	"strings"

	"github.com/hearken-project/hearken/vault"
)

// How an item is shown to people: a title by kind and author, each answer
// of the form labelled by what it means, choices in words, and the
// language the reporter wrote in, said in words where it helps. A case
// record goes to social services, so it must read as a record, not as the
// form's field names.

// Title names an item by its kind and its author: "Report", "Follow-up
// from the reporter", "Reply from Dana Lead".
func (m Message) Title() string {
	switch m.Kind {
	case vault.KindReport:
		return "Report"
	case vault.KindFollowUp:
		return "Follow-up from the reporter"
	case vault.KindReply:
		if m.Author != "" {
			return "Reply from " + m.Author
		}
		return "Reply from the team"
	}
	return "Item of an unknown kind (" + string(m.Kind) + ")"
}

// Answer is one field of an item as people read it.
type Answer struct {
	// Label says what the answer means ("What happened", "Is someone in
	// danger right now?"). It is empty for the words of a follow-up or a
	// reply, which the item's title already names.
	Label string
	// Value is the sender's words, or a choice of the form in words ("Yes",
	// "A student").
	Value string
	// Choice is true for a choice of the form: short, shown beside its
	// label rather than below it.
	Choice bool
}

// fieldLabels name the report form's fields by what they mean.
var fieldLabels = map[string]string{
	"message":    "What happened",
	"about":      "Who it is about",
	"danger":     "Is someone in danger right now?",
	"when_where": "When and where",
	"role":       "Who is the reporter?",
	"contact":    "Name and contact details the reporter chose to give",
}

// choiceWords say the form's choices in words, by field.
var choiceWords = map[string]map[string]string{
	"danger": {"yes": "Yes", "no": "No", "unsure": "Not sure"},
	"role": {"student": "A student", "staff": "Someone who works at the school",
		"parent": "A parent or carer", "other": "Someone else"},
}

// FieldLabel names a report field (Message.Fields) by what it means:
// "message" is "What happened". An unknown field keeps its own name.
func FieldLabel(name string) string {
	if l, ok := fieldLabels[name]; ok {
		return l
	}
	return name
}

// Answers returns m's fields as people read them, in the order they came:
// labelled by meaning, choices in words, empty ones and the form's
// language left out (LanguageNote says that in words).
func (m Message) Answers() []Answer {
	var out []Answer
	for _, f := range m.Fields {
		if strings.TrimSpace(f.Value) == "" || f.Name == "language" {
			continue
		}
		a := Answer{Label: FieldLabel(f.Name), Value: f.Value}
		if words, ok := choiceWords[f.Name]; ok {
			if w, ok := words[strings.ToLower(strings.TrimSpace(f.Value))]; ok {
				a.Value, a.Choice = w, true
			}
		}
		if f.Name == "message" && m.Kind != vault.KindReport {
			a.Label = ""
		}
		out = append(out, a)
	}
	return out
}

// languageNames name the languages a school's site is likely to be in, in
// English, by their codes.
var languageNames = map[string]string{
	"am": "Amharic", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "cs": "Czech",
	"cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
	"es": "Spanish", "et": "Estonian", "fa": "Persian", "fi": "Finnish", "fr": "French",
	"ga": "Irish", "gd": "Scottish Gaelic", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi",
	"hr": "Croatian", "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "it": "Italian",
	"ja": "Japanese", "ka": "Georgian", "ko": "Korean", "ku": "Kurdish", "lt": "Lithuanian",
	"lv": "Latvian", "ml": "Malayalam", "mr": "Marathi", "ms": "Malay", "ne": "Nepali",
	"nl": "Dutch", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish", "ps": "Pashto",
	"pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
	"so": "Somali", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili",
	"ta": "Tamil", "te": "Telugu", "th": "Thai", "ti": "Tigrinya", "tl": "Tagalog",
	"tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "yo": "Yoruba",
	"zh": "Chinese",
}

// languageCode is a BCP 47 tag as the site writes one ("ar", "pt-BR").
var languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// languageName names the language of a code in English ("Arabic"), or
// says the code itself when it is not one known here.
func languageName(code string) string {
	base, _, _ := strings.Cut(code, "-")
	if name, ok := languageNames[base]; ok {
		return name
	}
	return "the language with code " + code
}

// languageNotes fills each message's LanguageNote: on a report, or a
// follow-up without one before it, unless the reporter wrote in English
// (the language reviewer speaks); on a follow-up, when its language
// differs from the reporter's message before it. A forged or missing
// language says nothing.
func languageNotes(msgs []Message) {
	last := "en"
	for i := range msgs {
		m := &msgs[i]
		if m.Kind != vault.KindReport && m.Kind != vault.KindFollowUp {
			continue
		}
		code := m.field("language")
		if !languageCode.MatchString(code) {
			continue
		}
		if !strings.EqualFold(code, last) {
			if m.Kind == vault.KindReport {
				m.LanguageNote = "The reporter wrote in " + languageName(code) + "."
			} else {
				m.LanguageNote = "The reporter wrote this in " + languageName(code) + "."
			}
		}
		last = code
	}
}

// field returns the value of m's field name, or "".
func (m Message) field(name string) string {
	for _, f := range m.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
