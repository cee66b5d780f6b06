package desk

import (
	"embed"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Guidance for the lead: a short text shown on a case of a category that
// calls for particular steps. The defaults are embedded, in English and in
// every language of the public site (ar, es, fr, zh); a school edits them
// by putting a file of the same name in STORE/guidance/LANG/, and can add
// guidance for any other category, or another language, the same way. A
// file is named after its category with hyphens for spaces
// ("concern-about-an-adult.txt").
//
// The format is plain text: a first line "# Title", then paragraphs
// separated by blank lines; a line beginning "- " is an item of a list.

//go:embed guidance
var guidanceFiles embed.FS

// maxGuidance bounds a guidance file.
const maxGuidance = 64 << 10

type guidance struct {
	Title  string
	Blocks []guidanceBlock
	Note   string // something wrong with the school's own file
	// Lang and Dir are the language the text is in and its direction,
	// for the page's lang and dir attributes.
	Lang, Dir string
}

type guidanceBlock struct {
	Text  string   // a paragraph
	Items []string // or a list
}

// guidanceFor returns the guidance for category in lang, or nil if there
// is none: the school's own file first, then the embedded default, each in
// lang and then in English. lang is the desk's, which New checked
// (CheckLang): a language code, never a path.
func guidanceFor(store, lang, category string) *guidance {
	if category == "" {
		return nil
	}
	name := strings.ReplaceAll(category, " ", "-") + ".txt"
	langs := []string{lang}
	if lang != "en" {
		langs = append(langs, "en")
	}
	var note string
	for _, l := range langs {
		text, err := readLimited(filepath.Join(store, "guidance", l, name))
		switch {
		case err == nil:
			g := parseGuidance(text)
			g.Lang, g.Dir = langTag(l), langDir(l)
			return g
		case !errors.Is(err, fs.ErrNotExist):
			note = "Your school's guidance file " + filepath.Join("guidance", l, name) + " could not be read (" + err.Error() + "), so the desk's default is shown."
		}
		if data, err := guidanceFiles.ReadFile("guidance/" + l + "/" + name); err == nil {
			g := parseGuidance(string(data))
			g.Note = note
			g.Lang, g.Dir = langTag(l), langDir(l)
			return g
		}
	}
	return nil
}

func readLimited(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxGuidance+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxGuidance {
		return "", errors.New("it is larger than 64 KiB")
	}
	return string(data), nil
}

// parseGuidance reads the guidance format. Nothing in it is markup: the
// page escapes every word.
func parseGuidance(text string) *guidance {
	g := &guidance{}
	var para []string
	inList := false // the line before was part of a list item
	flush := func() {
		if len(para) > 0 {
			g.Blocks = append(g.Blocks, guidanceBlock{Text: strings.Join(para, " ")})
			para = nil
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		n := len(g.Blocks)
		switch {
		case line == "":
			flush()
			inList = false
		case strings.HasPrefix(line, "# ") && g.Title == "" && n == 0 && len(para) == 0:
			g.Title = strings.TrimSpace(line[2:])
		case strings.HasPrefix(line, "- "):
			flush()
			item := strings.TrimSpace(line[2:])
			if inList {
				g.Blocks[n-1].Items = append(g.Blocks[n-1].Items, item)
			} else {
				g.Blocks = append(g.Blocks, guidanceBlock{Items: []string{item}})
			}
			inList = true
		case inList:
			// A wrapped list item.
			items := g.Blocks[n-1].Items
			items[len(items)-1] += " " + line
		default:
			para = append(para, line)
		}
	}
	flush()
	if g.Title == "" {
		g.Title = "Guidance"
	}
	return g
}
