package ingest

// KindChat is a chat or interaction log (any shape package datasets
// reads): its records become training examples as they are, not chunks.
const KindChat = "chat"

var kindChat = &inputKind{
	Name: KindChat,
	Detect: func(s *sniff) bool {
		return len(s.trim) > 0 && (s.trim[0] == '{' || s.trim[0] == '[') && isChatLog(s.b)
	},
	Examples: true, // chatExamples charges chatCost per record as it decodes
}
