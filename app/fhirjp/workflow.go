package fhirjp

// Appointment is a base R4 Appointment (JP Core 1.x publishes no
// Appointment profile).
type Appointment struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Status       string        `json:"status"`
	ServiceType  []Concept     `json:"serviceType,omitempty"`
	Start        string        `json:"start,omitempty"`
	End          string        `json:"end,omitempty"`
	Created      string        `json:"created,omitempty"`
	Comment      string        `json:"comment,omitempty"`
	Participant  []Participant `json:"participant"`
}

// Participant is one of an appointment's participants.
type Participant struct {
	Type   []Concept  `json:"type,omitempty"`
	Actor  *Reference `json:"actor,omitempty"`
	Status string     `json:"status"`
}

// Questionnaire is a base R4 Questionnaire.
type Questionnaire struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id,omitempty"`
	URL          string  `json:"url,omitempty"`
	Name         string  `json:"name,omitempty"`
	Title        string  `json:"title,omitempty"`
	Status       string  `json:"status"`
	Language     string  `json:"language,omitempty"`
	Item         []QItem `json:"item,omitempty"`
}

// QItem is a question (or a group of them).
type QItem struct {
	LinkID       string         `json:"linkId"`
	Text         string         `json:"text,omitempty"`
	Type         string         `json:"type"`
	Required     bool           `json:"required,omitempty"`
	Repeats      bool           `json:"repeats,omitempty"`
	MaxLength    int            `json:"maxLength,omitempty"`
	AnswerOption []AnswerOption `json:"answerOption,omitempty"`
	Item         []QItem        `json:"item,omitempty"`
}

// AnswerOption is one choice.
type AnswerOption struct {
	ValueCoding Coding `json:"valueCoding"`
}

// QuestionnaireResponse is a base R4 QuestionnaireResponse.
type QuestionnaireResponse struct {
	ResourceType  string     `json:"resourceType"`
	ID            string     `json:"id,omitempty"`
	Questionnaire string     `json:"questionnaire"`
	Status        string     `json:"status"`
	Subject       *Reference `json:"subject,omitempty"`
	Authored      string     `json:"authored,omitempty"`
	Author        *Reference `json:"author,omitempty"`
	Item          []RespItem `json:"item,omitempty"`
}

// RespItem is the answer to one question.
type RespItem struct {
	LinkID string   `json:"linkId"`
	Text   string   `json:"text,omitempty"`
	Answer []Answer `json:"answer,omitempty"`
}

// Answer is one answer value; exactly one field is set.
type Answer struct {
	ValueBoolean *bool    `json:"valueBoolean,omitempty"`
	ValueDecimal *float64 `json:"valueDecimal,omitempty"`
	ValueInteger *int     `json:"valueInteger,omitempty"`
	ValueDate    string   `json:"valueDate,omitempty"`
	ValueString  string   `json:"valueString,omitempty"`
	ValueCoding  *Coding  `json:"valueCoding,omitempty"`
}
