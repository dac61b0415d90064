// Package bot is Hehuo's stream-mode DingTalk bot: it routes chatbot messages,
// interactive card callbacks and approval events to the services. It arrives
// with the DingTalk issue; the package exists now so the layout is fixed.
package bot
