package dingtalk

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Card is an interactive card (互动卡片) to create and deliver in one call.
// Clicks come back over the stream as card callbacks (callbackType STREAM),
// routed by OutTrackID. It goes either to one user's chat with the app
// robot (UserID) or into a group (OpenConversationID).
type Card struct {
	TemplateID  string                       // cardTemplateId from the card platform
	OutTrackID  string                       // our id of the card, unique
	Data        map[string]string            // cardParamMap everyone sees
	PrivateData map[string]map[string]string // userid → cardParamMap only they see

	UserID             string
	OpenConversationID string
	AtUserIDs          map[string]string // group only: userid → name to mention
}

// DeliverCard creates c and delivers it. A delivery DingTalk reports as
// failed is an error, with DingTalk's reason.
func (c *Client) DeliverCard(ctx context.Context, card Card) error {
	if card.TemplateID == "" || card.OutTrackID == "" {
		return fmt.Errorf("deliver card: template id and out track id are required")
	}
	if (card.UserID == "") == (card.OpenConversationID == "") {
		return fmt.Errorf("deliver card %s: give exactly one of a user and a group", card.OutTrackID)
	}
	body := map[string]any{
		"cardTemplateId": card.TemplateID,
		"outTrackId":     card.OutTrackID,
		"callbackType":   "STREAM",
		"cardData":       map[string]any{"cardParamMap": nonNilMap(card.Data)},
		"userIdType":     1,
	}
	if len(card.PrivateData) > 0 {
		p := map[string]any{}
		for u, m := range card.PrivateData {
			p[u] = map[string]any{"cardParamMap": nonNilMap(m)}
		}
		body["privateData"] = p
	}
	if card.UserID != "" {
		body["openSpaceId"] = "dtv1.card//IM_ROBOT." + card.UserID
		body["imRobotOpenSpaceModel"] = map[string]any{"supportForward": true}
		body["imRobotOpenDeliverModel"] = map[string]any{"spaceType": "IM_ROBOT", "robotCode": c.robotCode()}
	} else {
		body["openSpaceId"] = "dtv1.card//IM_GROUP." + card.OpenConversationID
		body["imGroupOpenSpaceModel"] = map[string]any{"supportForward": true}
		deliver := map[string]any{"robotCode": c.robotCode()}
		if len(card.AtUserIDs) > 0 {
			deliver["atUserIds"] = card.AtUserIDs
		}
		body["imGroupOpenDeliverModel"] = deliver
	}
	var out struct {
		Result struct {
			DeliverResults []struct {
				SpaceType string `json:"spaceType"`
				SpaceID   string `json:"spaceId"`
				Success   bool   `json:"success"`
				ErrorMsg  string `json:"errorMsg"`
			} `json:"deliverResults"`
		} `json:"result"`
	}
	const api = "/v1.0/card/instances/createAndDeliver"
	if err := c.api(ctx, http.MethodPost, api, nil, body, &out); err != nil {
		return fmt.Errorf("deliver card %s: %w", card.OutTrackID, err)
	}
	var failed []string
	for _, r := range out.Result.DeliverResults {
		if !r.Success {
			failed = append(failed, r.SpaceType+"."+r.SpaceID+": "+r.ErrorMsg)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("deliver card %s: %w", card.OutTrackID,
			&Error{API: api, HTTPStatus: http.StatusOK, Code: "deliverFailed", Message: strings.Join(failed, "; ")})
	}
	return nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
