package calc

// Step is one figure of a calculation and how it was obtained, shown in the
// UI next to the number (RULES: every calculation returns its trace).
type Step struct {
	// Figure names what was computed, e.g. "pool.city" or "allocated[12]".
	Figure string `json:"figure"`
	// Formula is the rule applied, in the words of RULES.md, e.g. "P × r_city".
	Formula string `json:"formula"`
	// Inputs are the values the formula used, as decimal strings.
	Inputs map[string]string `json:"inputs,omitempty"`
	// Rounding names the rounding applied, e.g. "整元，四舍五入（远离零）".
	Rounding string `json:"rounding,omitempty"`
	// Value is the result as a decimal string.
	Value string `json:"value"`
	// Note explains a choice, e.g. an override or a manual edit with its reason.
	Note string `json:"note,omitempty"`
}

// Trace is the steps of one calculation in the order they were taken.
type Trace []Step
