package bot

import (
	"context"
	"errors"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"

	"hehuo/internal/apperr"
	"hehuo/internal/workflow"
)

// inboxEvents are the event types that go to the workflow inbox; the app
// may be subscribed to more (the subscription is chosen in DingTalk's
// console), and those are acknowledged and dropped.
var inboxEvents = map[string]bool{
	workflow.EventInstanceChange: true,
	workflow.EventTaskChange:     true,
}

// eventTimeout bounds one event's handling; DingTalk redelivers an event
// that is not acknowledged in time anyway.
const eventTimeout = 30 * time.Second

// onEvent acks SUCCESS once the inbox has the event handled (now or
// before), and LATER when its handler failed, so that DingTalk delivers it
// again.
func (b *Bot) onEvent(_ context.Context, h *event.EventHeader, raw []byte) (event.EventProcessStatusType, error) {
	log := b.log.With("event_id", h.EventId, "event_type", h.EventType)
	if !inboxEvents[h.EventType] {
		log.Debug("event ignored: not an approval event")
		return event.EventProcessStatusKSuccess, nil
	}
	if b.cfg.CorpID != "" && h.EventCorpId != "" && h.EventCorpId != b.cfg.CorpID {
		log.Warn("event ignored: from another corp", "corp_id", h.EventCorpId)
		return event.EventProcessStatusKSuccess, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	// SDK v0.9.1 handles every frame in a goroutine of its own and writes
	// the acks to the websocket without a lock; two acks written at once
	// panic in gorilla/websocket and the ack is lost. Handling events one
	// at a time leaves only the write itself to collide, which is rare; a
	// lost ack just means a redelivery, which the inbox deduplicates.
	b.eventMu.Lock()
	defer b.eventMu.Unlock()
	res, err := b.deps.Inbox.Accept(ctx, h.EventId, h.EventType, h.EventCorpId, raw)
	var ae *apperr.Error
	switch {
	case errors.As(err, &ae) && ae.Kind == apperr.KindInvalid:
		// A malformed event stays malformed: asking for it again cannot help.
		log.Error("event refused", "err", err)
		return event.EventProcessStatusKSuccess, nil
	case err != nil:
		log.Warn("event not handled, asking for redelivery", "err", err)
		return event.EventProcessStatusKLater, nil
	case res == workflow.Duplicate:
		log.Info("event already handled")
	default:
		log.Info("event handled")
	}
	return event.EventProcessStatusKSuccess, nil
}
