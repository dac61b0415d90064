package dtsim

import (
	"encoding/json"
	"fmt"
	"sort"
)

// snapshot is the part of the simulator a person sees and would miss after a
// restart of `hehuo demo`: the corp's users and departments, every inbox, the
// robots and their messages, the approvals (a process still running in Hehuo
// can then still be approved) and the cards. Tokens, auth codes, rate-limit
// windows and stream connections are not kept: they are short-lived in
// DingTalk too.
type snapshot struct {
	Users     []User          `json:"users"`
	Depts     []Department    `json:"depts"`
	SeqTask   int64           `json:"seq_task"`
	Notices   []Notice        `json:"notices"`
	Tasks     []TaskResult    `json:"tasks"`
	Daily     map[string]int  `json:"daily"`
	SeenMsg   map[string]bool `json:"seen_msg"`
	Robots    []Robot         `json:"robots"`
	RobotMsg  []RobotMessage  `json:"robot_messages"`
	Approvals []Approval      `json:"approvals"`
	Cards     []Card          `json:"cards"`
	Version   int             `json:"version"`
}

const snapshotVersion = 1

// Snapshot returns the simulator's lasting state as JSON, for Restore after
// a restart. The same state gives the same bytes, so a caller can tell
// whether anything changed.
func (s *Sim) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := snapshot{Version: snapshotVersion, SeqTask: s.seqTask, Notices: s.notices, Daily: s.daily, SeenMsg: s.seenMsg, RobotMsg: s.robotMsg}
	for _, id := range s.userSeq {
		snap.Users = append(snap.Users, *s.users[id])
	}
	for _, d := range s.depts {
		snap.Depts = append(snap.Depts, *d)
	}
	sort.Slice(snap.Depts, func(i, j int) bool { return snap.Depts[i].ID < snap.Depts[j].ID })
	for _, t := range s.tasks {
		snap.Tasks = append(snap.Tasks, *t)
	}
	sort.Slice(snap.Tasks, func(i, j int) bool { return snap.Tasks[i].TaskID < snap.Tasks[j].TaskID })
	for _, r := range s.robots {
		snap.Robots = append(snap.Robots, *r)
	}
	sort.Slice(snap.Robots, func(i, j int) bool { return snap.Robots[i].AccessToken < snap.Robots[j].AccessToken })
	for _, a := range s.approvals {
		snap.Approvals = append(snap.Approvals, *a)
	}
	for _, c := range s.cards {
		snap.Cards = append(snap.Cards, *c)
	}
	sort.Slice(snap.Cards, func(i, j int) bool { return snap.Cards[i].OutTrackID < snap.Cards[j].OutTrackID })
	return json.Marshal(snap)
}

// Restore puts back a state Snapshot returned, replacing what the simulator
// holds of it. An empty state restores nothing.
func (s *Sim) Restore(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("dtsim: restore: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("dtsim: restore: snapshot version %d, want %d", snap.Version, snapshotVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users, s.userSeq = map[string]*User{}, nil
	for i := range snap.Users {
		u := snap.Users[i]
		s.users[u.UserID] = &u
		s.userSeq = append(s.userSeq, u.UserID)
	}
	for i := range snap.Depts {
		d := snap.Depts[i]
		s.depts[d.ID] = &d
	}
	s.seqTask, s.notices = snap.SeqTask, snap.Notices
	s.tasks = map[int64]*TaskResult{}
	for i := range snap.Tasks {
		t := snap.Tasks[i]
		s.tasks[t.TaskID] = &t
	}
	if snap.Daily != nil {
		s.daily = snap.Daily
	}
	if snap.SeenMsg != nil {
		s.seenMsg = snap.SeenMsg
	}
	s.robots = map[string]*Robot{}
	for i := range snap.Robots {
		r := snap.Robots[i]
		s.robots[r.AccessToken] = &r
	}
	s.robotMsg = snap.RobotMsg
	s.approvals = nil
	for i := range snap.Approvals {
		a := snap.Approvals[i]
		s.approvals = append(s.approvals, &a)
	}
	s.cards = map[string]*Card{}
	for i := range snap.Cards {
		c := snap.Cards[i]
		s.cards[c.OutTrackID] = &c
	}
	return nil
}
