package tokens

// ReplyPrimer is the tokens that prime the reply, counted once an example,
// as OpenAI's cookbook counts a chat.
const ReplyPrimer = 3

// Message is the tokens one chat message costs as OpenAI's cookbook counts
// it: 3, its role's, and n, its content's.
func (c *Counter) Message(role string, n int) int { return 3 + c.Role(role) + n }

// Role counts a role name's tokens: one for each of the three chat roles
// (pinned by a test against the tokenizer).
func (c *Counter) Role(role string) int {
	switch role {
	case "user", "assistant", "system":
		return 1
	}
	return c.Count(role)
}
