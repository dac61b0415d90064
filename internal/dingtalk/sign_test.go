package dingtalk_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"hehuo/internal/dingtalk"
)

func TestSignPublishedExample(t *testing.T) {
	// The worked example of the JS-SDK signature that DingTalk's own
	// JSAPI-signature page copied along with the algorithm (reproduced e.g. at
	// w3help.cc/a/202108/716782.html): same field order, same SHA-1.
	got := dingtalk.Sign("sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
		"Wm3WZYTPz0wzccnW", "1414587457", "http://mp.weixin.qq.com?params=value")
	if want := "0f9de62fce790f9a083d5c99e95740ceb90c27ed"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestRobotSign(t *testing.T) {
	secret, ts := "SECabc", "1690000000000"
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if got := dingtalk.RobotSign(secret, ts); got != want {
		t.Errorf("RobotSign = %s, want %s", got, want)
	}
}
