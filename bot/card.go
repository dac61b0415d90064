package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/card"
)

// CardCallback is a click on an interactive card Hehuo sent.
type CardCallback struct {
	// OutTrackID is the id Hehuo gave the card when it sent it; its prefix
	// names the handler ("subscription:123:…").
	OutTrackID string
	UserID     string // the DingTalk userid who clicked
	CorpID     string
	ActionIDs  []string
	Params     map[string]any // the card's submitted values
}

// Param returns a submitted value as a string ("" when absent or not a string).
func (c CardCallback) Param(name string) string {
	s, _ := c.Params[name].(string)
	return s
}

// CardResponse updates the card after a click: shared values every viewer
// sees, and values only the clicking user sees. Only the keys given change.
type CardResponse struct {
	CardData    map[string]string
	PrivateData map[string]string
}

// CardHandler answers a card callback.
type CardHandler func(ctx context.Context, c CardCallback) (CardResponse, error)

// cardTimeout bounds a card handler: the person is waiting for the card to change.
const cardTimeout = 10 * time.Second

// OnCard routes callbacks of cards whose outTrackId starts with prefix to
// h; with overlapping prefixes the longest wins. It may be called before
// or after Run.
func (b *Bot) OnCard(prefix string, h CardHandler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cards[prefix] = h
}

func (b *Bot) cardHandler(outTrackID string) CardHandler {
	b.mu.Lock()
	defer b.mu.Unlock()
	var best string
	var h CardHandler
	for p, ph := range b.cards {
		if strings.HasPrefix(outTrackID, p) && (h == nil || len(p) > len(best)) {
			best, h = p, ph
		}
	}
	return h
}

func (b *Bot) onCard(_ context.Context, req *card.CardRequest) (*card.CardResponse, error) {
	log := b.log.With("out_track_id", req.OutTrackId, "userid", req.UserId)
	h := b.cardHandler(req.OutTrackId)
	if h == nil {
		log.Warn("card callback without a handler")
		return nil, fmt.Errorf("no card handler for outTrackId %q", req.OutTrackId)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cardTimeout)
	defer cancel()
	resp, err := h(ctx, CardCallback{
		OutTrackID: req.OutTrackId,
		UserID:     req.UserId,
		CorpID:     req.CorpId,
		ActionIDs:  req.CardActionData.CardPrivateData.ActionIdList,
		Params:     req.CardActionData.CardPrivateData.Params,
	})
	if err != nil {
		log.Warn("card handler failed", "err", err)
		return nil, fmt.Errorf("card %s: %w", req.OutTrackId, err)
	}
	out := &card.CardResponse{CardUpdateOptions: &card.CardUpdateOptions{
		UpdateCardDataByKey: true, UpdatePrivateDataByKey: true}}
	if resp.CardData != nil {
		out.CardData = &card.CardDataDto{CardParamMap: resp.CardData}
	}
	if resp.PrivateData != nil {
		out.UserPrivateData = &card.CardDataDto{CardParamMap: resp.PrivateData}
	}
	return out, nil
}
