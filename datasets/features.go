package datasets

import (
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// SchemaOf is the Parquet schema of a layout's rows.
func SchemaOf(layout int) *parquet.Schema {
	switch layout {
	case LayoutTools:
		return parquet.SchemaOf(ToolRow{})
	case LayoutPairs:
		return parquet.SchemaOf(PairRow{})
	case LayoutPairsTools:
		return parquet.SchemaOf(PairToolRow{})
	}
	return parquet.SchemaOf(Row{})
}

// HFFeatures writes the schema of a layout in the notation of the Hugging
// Face dataset card (dataset_info.features), derived from the Parquet
// schema itself so that the two cannot disagree: the datasets library
// casts what it reads to the card's features and fails on a mismatch.
func HFFeatures(layout int) string {
	var b strings.Builder
	b.WriteString("  features:\n")
	for _, f := range SchemaOf(layout).Fields() {
		writeFeature(&b, f, "  ")
	}
	return b.String()
}

func writeFeature(b *strings.Builder, f parquet.Field, indent string) {
	fmt.Fprintf(b, "%s- name: %s\n", indent, f.Name())
	writeType(b, f, indent+"  ")
}

func writeType(b *strings.Builder, n parquet.Node, indent string) {
	if lt := n.Type().LogicalType(); lt != nil && isListType(lt) {
		elem := n.Fields()[0].Fields()[0] // list > element
		if elem.Leaf() {
			fmt.Fprintf(b, "%ssequence: %s\n", indent, dtype(elem))
			return
		}
		fmt.Fprintf(b, "%slist:\n", indent)
		for _, f := range elem.Fields() {
			writeFeature(b, f, indent)
		}
		return
	}
	if !n.Leaf() {
		fmt.Fprintf(b, "%sstruct:\n", indent)
		for _, f := range n.Fields() {
			writeFeature(b, f, indent)
		}
		return
	}
	fmt.Fprintf(b, "%sdtype: %s\n", indent, dtype(n))
}

func isListType(lt *format.LogicalType) bool {
	_, ok := lt.Value.(*format.ListType)
	return ok
}

// dtype is the datasets library's name of a leaf's type.
func dtype(n parquet.Node) string {
	switch n.Type().Kind() {
	case parquet.Boolean:
		return "bool"
	case parquet.Int32:
		return "int32"
	case parquet.Int64:
		return "int64"
	case parquet.Float:
		return "float32"
	case parquet.Double:
		return "float64"
	}
	return "string"
}

// ArrowBytes is the size of an example's values in Arrow's in-memory
// layout, which the Hub's num_bytes means: each string's bytes plus a
// 4-byte offset, fixed-width values at their width, a 4-byte offset per
// list and a validity bit per nullable value.
func ArrowBytes(e *Example, layout int) int64 {
	msgs := func(ms []Message) int64 {
		n := int64(4) // the list's offset
		for i := range ms {
			m := &ms[i]
			n += int64(len(m.Role)+len(m.Content)+len(m.Name)) + 3*4 + 4 + 1 // 3 strings, weight, validity bits
			if layout == LayoutTools || layout == LayoutPairsTools {
				n += int64(len(m.ToolCallID)) + 4 + 4 + 1 // tool_call_id, the calls' list offset, validity
				for _, c := range m.ToolCalls {
					n += int64(len(c.ID)+len(c.Type)+len(c.Function.Name)+len(c.Function.Arguments)) + 4*4
				}
			}
		}
		return n
	}
	n := int64(len(e.ID)) + 4
	switch layout {
	case LayoutPairs:
		n += msgs(e.Prompt()) + msgs(e.Chosen()) + msgs(e.Rejected)
	case LayoutPairsTools:
		n += msgs(e.Prompt()) + msgs(e.Chosen()) + msgs(e.Rejected) + int64(len(e.Tools)) + 4
	case LayoutTools:
		n += msgs(e.Messages) + int64(len(e.Tools)) + 4
	default:
		n += msgs(e.Messages)
	}
	m := &e.Meta
	n += int64(len(m.Origin)+len(m.Format)+len(m.Source)+len(m.DocID)+len(m.ChunkID)+len(m.Title)+len(m.Section)+
		len(m.Speaker)+len(m.Persona)+len(m.Model)+len(m.Kind)+len(m.QuestionType)) + 12*4 // strings
	n += 2*4 + 2*8 + 2*4 + 2 // pages, times, the two lists' offsets, validity bits
	for k := range m.Scores {
		n += int64(len(k)) + 4 + 8
	}
	for k, v := range m.Extra {
		n += int64(len(k)+len(v)) + 2*4
	}
	return n
}
