package agreement

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/esign"
	"hehuo/internal/org"
	"hehuo/internal/text"
)

// Mine returns the signed-in partner's agreements, newest first.
func (s *Service) Mine(ctx context.Context, userID int64) ([]Agreement, error) {
	return selectAgreements(ctx, s.db, `WHERE a.user_id = $1 ORDER BY a.id DESC`, userID)
}

// Full is one agreement with its whole text, as the partner reads it
// before signing.
type Full struct {
	Agreement
	Title string `json:"title"`
	Text  string `json:"text"`
}

// mine returns agreement id of user userID; another's is ErrNotFound.
func mine(ctx context.Context, q sqlx.QueryerContext, userID, id int64) (Agreement, error) {
	as, err := selectAgreements(ctx, q, `WHERE a.id = $1 AND a.user_id = $2`, id, userID)
	if err != nil {
		return Agreement{}, err
	}
	if len(as) == 0 {
		return Agreement{}, ErrNotFound
	}
	return as[0], nil
}

// document renders agreement a from its snapshot and template version.
func document(ctx context.Context, q sqlx.QueryerContext, a Agreement) (Document, error) {
	var body string
	if err := sqlx.GetContext(ctx, q, &body, `SELECT body FROM agreement_templates WHERE id = $1`, a.TemplateID); err != nil {
		return Document{}, fmt.Errorf("agreement %d template: %w", a.ID, err)
	}
	txt, err := render(body, a.Vars, true)
	if err != nil {
		return Document{}, err
	}
	return Document{AgreementID: a.ID, Title: a.TemplateName, Text: txt, TemplateVersion: a.TemplateVersion, Date: a.CreatedAt}, nil
}

// MineFull returns the partner's agreement id with its whole text.
func (s *Service) MineFull(ctx context.Context, userID, id int64) (Full, error) {
	a, err := mine(ctx, s.db, userID, id)
	if err != nil {
		return Full{}, err
	}
	d, err := document(ctx, s.db, a)
	if err != nil {
		return Full{}, err
	}
	return Full{Agreement: a, Title: d.Title, Text: d.Text}, nil
}

// ensurePDF returns the stored PDF of agreement a, rendering and storing it
// with its hash the first time (the row is locked: one rendering, one hash).
func (s *Service) ensurePDF(ctx context.Context, tx *sqlx.Tx, a Agreement) ([]byte, string, error) {
	var row struct {
		PDF  []byte  `db:"pdf"`
		Hash *string `db:"sha256"`
	}
	if err := tx.GetContext(ctx, &row, `SELECT pdf, sha256 FROM agreements WHERE id = $1 FOR UPDATE`, a.ID); err != nil {
		return nil, "", fmt.Errorf("lock agreement %d: %w", a.ID, err)
	}
	if row.PDF != nil && row.Hash != nil {
		return row.PDF, *row.Hash, nil
	}
	d, err := document(ctx, tx, a)
	if err != nil {
		return nil, "", err
	}
	font, err := s.font()
	if err != nil {
		return nil, "", err
	}
	b, err := RenderPDF(font, d)
	if err != nil {
		return nil, "", err
	}
	h := Hash(b)
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET pdf = $2, sha256 = $3, generated_at = $4 WHERE id = $1`,
		a.ID, b, h, s.now()); err != nil {
		return nil, "", fmt.Errorf("store agreement %d pdf: %w", a.ID, err)
	}
	return b, h, nil
}

// PDF returns the partner's agreement id as PDF with its file name,
// generating it on first download.
func (s *Service) PDF(ctx context.Context, userID, id int64) (name string, pdf []byte, err error) {
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		a, err := mine(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		pdf, _, err = s.ensurePDF(ctx, tx, a)
		name = fmt.Sprintf("%s-%s-%s.pdf", a.ProjectName, a.SubjectName, a.PartnerName)
		return err
	})
	return name, pdf, err
}

// Generate renders and stores the PDF of agreement id (any partner's; the
// demo and the console), returning its hash.
func (s *Service) Generate(ctx context.Context, id int64) (string, error) {
	var h string
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		as, err := selectAgreements(ctx, tx, `WHERE a.id = $1`, id)
		if err != nil {
			return err
		}
		if len(as) == 0 {
			return ErrNotFound
		}
		_, h, err = s.ensurePDF(ctx, tx, as[0])
		return err
	})
	return h, err
}

// SignOff is a recorded signature.
type SignOff struct {
	AgreementID     int64     `json:"agreement_id" db:"agreement_id"`
	UserID          int64     `json:"user_id" db:"user_id"`
	DingTalkUserID  string    `json:"dingtalk_userid" db:"dingtalk_userid"`
	SignedAt        time.Time `json:"signed_at" db:"signed_at"`
	DocumentSHA256  string    `json:"document_sha256" db:"document_sha256"`
	TemplateVersion int       `json:"template_version" db:"template_version"`
	Provider        string    `json:"provider" db:"provider"`
	ExternalID      string    `json:"external_id" db:"external_id"`
	// Status is signed, or pending at a vendor that calls back later.
	Status esign.Status `json:"status" db:"-"`
}

// SignInput is the body of POST /me/agreements/{id}/sign: the partner
// confirms they read the whole text and agree (the tick box).
type SignInput struct {
	Agreed bool `json:"agreed"`
}

// Sign records the partner's sign-off of agreement id: who (their DingTalk
// userid), when, the hash of the stored PDF and the template version.
// Signing again returns the first sign-off and records nothing.
func (s *Service) Sign(ctx context.Context, a audit.Actor, userID, id int64, in SignInput) (SignOff, error) {
	var out SignOff
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		ag, err := mine(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if !in.Agreed {
			return errNotAgreed
		}
		_, h, err := s.ensurePDF(ctx, tx, ag) // locks the row: concurrent signs queue here
		if err != nil {
			return err
		}
		err = tx.GetContext(ctx, &out, `SELECT agreement_id, user_id, dingtalk_userid, signed_at, document_sha256, template_version,
			provider, external_id FROM agreement_signoffs WHERE agreement_id = $1`, id)
		if err == nil {
			out.Status = esign.StatusSigned
			return nil // signed before: recorded once
		}
		if !db.IsNoRows(err) {
			return fmt.Errorf("sign-off of agreement %d: %w", id, err)
		}
		u, err := org.GetUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		res, err := s.provider.Request(ctx, esign.Request{AgreementID: id, UserID: userID, DingTalkUserID: text.Deref(u.DingTalkUserID),
			SignerName: u.Name, DocumentSHA256: h, TemplateVersion: ag.TemplateVersion, Now: s.now()})
		if err != nil {
			return fmt.Errorf("sign agreement %d: %w", id, err)
		}
		out = SignOff{AgreementID: id, UserID: userID, DingTalkUserID: text.Deref(u.DingTalkUserID), DocumentSHA256: h,
			TemplateVersion: ag.TemplateVersion, Provider: s.provider.Name(), ExternalID: res.ExternalID, Status: res.Status}
		if res.Status != esign.StatusSigned {
			return nil // a vendor calls back (Callback records it)
		}
		out.SignedAt = res.SignedAt.UTC().Truncate(time.Microsecond) // as Postgres keeps it
		return s.record(ctx, tx, a, ag, out)
	})
	return out, err
}

func (s *Service) record(ctx context.Context, tx *sqlx.Tx, a audit.Actor, ag Agreement, o SignOff) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO agreement_signoffs (agreement_id, user_id, dingtalk_userid, signed_at, document_sha256,
		template_version, provider, external_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (agreement_id) DO NOTHING`,
		o.AgreementID, o.UserID, o.DingTalkUserID, o.SignedAt, o.DocumentSHA256, o.TemplateVersion, o.Provider, o.ExternalID); err != nil {
		return fmt.Errorf("record sign-off of agreement %d: %w", o.AgreementID, err)
	}
	return audit.Record(ctx, tx, a, audit.Entry{Action: "agreement.sign", Entity: "agreement", EntityID: ag.ID, ProjectID: &ag.ProjectID,
		Before: map[string]any{"status": StatusUnsigned}, After: map[string]any{"status": StatusSigned, "document_sha256": o.DocumentSHA256,
			"template_version": o.TemplateVersion, "dingtalk_userid": o.DingTalkUserID}})
}
