package shareholder

import (
	"strings"
	"time"

	"hehuo/internal/apperr"
	"hehuo/internal/civil"
)

// creditChars are the characters of a unified social credit code (GB
// 32100-2015): digits and upper-case letters without I, O, Z, S, V.
const creditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CreditCheckChar is the check character of the first 17 characters of a
// unified social credit code; ok is false when one is not allowed.
func CreditCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditChars, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * creditWeights[i]
	}
	c := (31 - sum%31) % 31
	return creditChars[c], true
}

// ValidCreditCode says whether s is a unified social credit code: 18
// characters of the code's alphabet with the right check character.
func ValidCreditCode(s string) bool {
	if len(s) != 18 {
		return false
	}
	c, ok := CreditCheckChar(s[:17])
	return ok && c == s[17]
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idChecks = "10X98765432"

// IDCheckChar is the check character (GB 11643) of the first 17 digits of a
// resident ID number; ok is false when they are not all digits.
func IDCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idChecks[sum%11], true
}

// ValidIDNumber says whether s is a resident ID number: 18 characters,
// a plausible birth date (1900-01-01 up to today) and the right check
// character.
func ValidIDNumber(s string, today civil.Date) bool {
	if len(s) != 18 {
		return false
	}
	c, ok := IDCheckChar(s[:17])
	if !ok || c != s[17] {
		return false
	}
	t, err := time.Parse("20060102", s[6:14])
	if err != nil {
		return false
	}
	born := civil.Of(t)
	return !born.Before(civil.Date{Year: 1900, Month: 1, Day: 1}) && !today.Before(born)
}

// normalizeIDNumber checks the ID number of a shareholder of kind for form
// and returns it upper-cased without spaces. The number is never put in an
// error message.
func normalizeIDNumber(kind Kind, s string) (string, error) {
	n := strings.ToUpper(strings.NewReplacer(" ", "", "\u3000", "").Replace(strings.TrimSpace(s)))
	switch kind {
	case KindCompany:
		if n == "" {
			return "", apperr.Invalid("required", "id_number", "请填写统一社会信用代码")
		}
		if !ValidCreditCode(n) {
			return "", apperr.Invalid("credit_code_invalid", "id_number", "统一社会信用代码格式不正确（须为18位，校验位符合GB 32100-2015）")
		}
	case KindPerson:
		if n == "" {
			return "", apperr.Invalid("required", "id_number", "请填写身份证号码")
		}
		if !ValidIDNumber(n, civil.Today(time.Now())) {
			return "", apperr.Invalid("id_number_invalid", "id_number", "身份证号码格式不正确（须为18位，出生日期有效，校验位符合GB 11643）")
		}
	}
	return n, nil
}

// normalizeAccount checks a bank account number for form: digits only
// (spaces and hyphens as typed are dropped), 8 to 30 of them; "" is no
// account. The number is never put in an error message.
func normalizeAccount(s string) (string, error) {
	n := strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(strings.TrimSpace(s))
	if n == "" {
		return "", nil
	}
	if strings.Trim(n, "0123456789") != "" || len(n) < 8 || len(n) > 30 {
		return "", apperr.Invalid("account_number_invalid", "account_number", "银行账号须为8至30位数字")
	}
	return n, nil
}

func parseKind(s string) (Kind, error) {
	switch k := Kind(strings.TrimSpace(s)); k {
	case KindCompany, KindPerson:
		return k, nil
	case "":
		return "", apperr.Invalid("required", "kind", "请选择股东类型（企业或个人）")
	default:
		return "", apperr.Invalid("shareholder_kind_invalid", "kind", "股东类型须为企业或个人")
	}
}
