package org.postern.smtp.core.internal.protocol;

import static org.postern.smtp.api.ReturnCode.DECLINED;
import static org.postern.smtp.api.ReturnCode.DENY;
import static org.postern.smtp.api.ReturnCode.DENYSOFT;
import static org.postern.smtp.api.ReturnCode.DENYSOFT_DISCONNECT;
import static org.postern.smtp.api.ReturnCode.DENY_DISCONNECT;
import static org.postern.smtp.api.ReturnCode.DONE;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.ReturnCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns a hook's answer into what the client is told: qpsmtpd's {@code *_respond}
 * methods as a table. A hook answer without a rule here lets the command proceed to its normal reply.
 * {@code %s} in a default text stands for the address the command is about.
 */
public final class Responses {
    /** What to do with the client for one hook answer. */
    public record Rule(int code, String enhancedStatus, String defaultText, boolean close) {
    }

    /** A reply to send, and whether the connection closes after it. */
    public record Decision(Reply reply, boolean close) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(Responses.class);
    private static final Map<HookType, Map<ReturnCode, Rule>> TABLE = new EnumMap<>(HookType.class);
    private static final Decision INVALID_DONE =
            new Decision(Reply.of(451, "4.3.0", "Temporary failure, please try again later"), false);

    static {
        rules(HookType.PRE_CONNECTION)
                .put(DENY, close(550, "5.7.1", "Connection from you denied, bye bye."))
                .put(DENY_DISCONNECT, close(550, "5.7.1", "Connection from you denied, bye bye."))
                .put(DENYSOFT, close(451, "4.7.1", "Connection from you temporarily denied, bye bye."))
                .put(DENYSOFT_DISCONNECT, close(451, "4.7.1", "Connection from you temporarily denied, bye bye."));
        rules(HookType.CONNECT)
                .put(DENY, close(550, "5.7.1", "Connection from you denied, bye bye."))
                .put(DENY_DISCONNECT, close(550, "5.7.1", "Connection from you denied, bye bye."))
                .put(DENYSOFT, close(450, "4.7.1", "Connection from you temporarily denied, bye bye."))
                .put(DENYSOFT_DISCONNECT, close(450, "4.7.1", "Connection from you temporarily denied, bye bye."));
        for (HookType hello : List.of(HookType.HELO, HookType.EHLO)) {
            rules(hello)
                    .put(DENY, reply(550, "5.7.1", "Access denied"))
                    .put(DENYSOFT, reply(450, "4.7.1", "Access temporarily denied"))
                    .put(DENY_DISCONNECT, close(550, "5.7.1", "Access denied"))
                    .put(DENYSOFT_DISCONNECT, close(450, "4.7.1", "Access temporarily denied"));
        }
        rules(HookType.MAIL)
                .put(DENY, reply(550, "5.7.1", "%s, denied"))
                .put(DENYSOFT, reply(450, "4.7.1", "%s, temporarily denied"))
                .put(DENY_DISCONNECT, close(550, "5.7.1", "%s, denied"))
                .put(DENYSOFT_DISCONNECT, close(421, "4.7.1", "%s, temporarily denied"));
        rules(HookType.RCPT)
                .put(DENY, reply(550, "5.7.1", "relaying denied"))
                .put(DENYSOFT, reply(450, "4.7.1", "relaying denied"))
                .put(DENY_DISCONNECT, close(550, "5.7.1", "delivery denied"))
                .put(DENYSOFT_DISCONNECT, close(421, "4.7.1", "relaying denied"))
                .put(DECLINED, reply(450, "4.7.1", "No plugin decided if relaying is allowed"))
                .put(DONE, reply(450, "4.7.1", "No plugin decided if relaying is allowed"));
        rules(HookType.DATA)
                // qpsmtpd's DONE means "the plugin read the message itself", which a Postern plugin cannot do
                .put(DONE, reply(451, "4.3.0", "Message not accepted, please try again later"))
                .put(DENY, reply(554, "5.7.1", "Message denied"))
                .put(DENYSOFT, reply(451, "4.7.1", "Message denied temporarily"))
                .put(DENY_DISCONNECT, close(554, "5.7.1", "Message denied"))
                .put(DENYSOFT_DISCONNECT, close(421, "4.7.1", "Message denied temporarily"));
        rules(HookType.DATA_HEADERS_END)
                .put(DENY_DISCONNECT, close(554, "5.7.1", "Message denied"))
                .put(DENYSOFT_DISCONNECT, close(421, "4.7.1", "Message denied temporarily"));
        for (HookType content : List.of(HookType.DATA_POST_HEADERS, HookType.DATA_POST, HookType.QUEUE_PRE)) {
            rules(content)
                    .put(DENY, reply(552, "5.7.1", "Message denied"))
                    .put(DENYSOFT, reply(452, "4.7.1", "Message denied temporarily"))
                    .put(DENY_DISCONNECT, close(552, "5.7.1", "Message denied"))
                    .put(DENYSOFT_DISCONNECT, close(452, "4.7.1", "Message denied temporarily"))
                    .put(DONE, reply(451, "4.3.0", "Message not queued"));
        }
        rules(HookType.QUEUE)
                .put(DENY, reply(552, "5.3.0", "Message denied"))
                .put(DENYSOFT, reply(452, "4.3.0", "Message denied temporarily"))
                .put(DECLINED, reply(451, "4.3.0", "Queuing declined or disabled; try again later"))
                .put(DONE, reply(451, "4.3.0", "Queuing declined or disabled; try again later"))
                .put(DENY_DISCONNECT, reply(451, "4.3.0", "Queuing declined or disabled; try again later"))
                .put(DENYSOFT_DISCONNECT, reply(451, "4.3.0", "Queuing declined or disabled; try again later"));
        rules(HookType.UNRECOGNIZED_COMMAND)
                .put(DENY_DISCONNECT, close(521, "5.5.1", "Unrecognized command"))
                .put(DENY, reply(500, "5.5.1", "Unrecognized command"));
        rules(HookType.HELP)
                .put(DENY, reply(500, "5.5.1", "Syntax error, command not recognized"));
        rules(HookType.NOOP)
                .put(DENY, reply(500, "5.7.1", "Stop wasting my time."))
                .put(DENY_DISCONNECT, close(500, "5.7.1", "Stop wasting my time."));
        rules(HookType.VRFY)
                .put(DENY, reply(554, "5.7.1", "Access Denied"))
                .put(ReturnCode.OK, reply(250, "2.0.0", "User OK"));
    }

    private Responses() {
    }

    // --- The core's own replies, where no hook decides; compare with qpsmtpd's Qpsmtpd::SMTP -------------------

    // Command lines (RFC 5321 2.3.8, 4.5.3.1.4)
    static final Reply LINE_TOO_LONG = Reply.of(500, "5.5.2", "Line too long");
    static final Reply BARE_LINE_ENDING = Reply.of(500, "5.5.2",
            "Syntax error: a command line must end with CRLF and hold no bare CR, LF or NUL (RFC 5321 2.3.8)");
    static final Reply LEADING_WHITE_SPACE = Reply.of(500, "5.5.2", "Syntax error: a command line must not start with white space");
    static final Reply UNRECOGNIZED = Reply.of(500, "5.5.1", "Unrecognized command");
    static final Reply OK = Reply.of(250, "2.0.0", "OK");
    static final Reply INTERNAL_ERROR = Reply.of(451, "4.3.0", "Internal error - try again later");

    // HELO, EHLO
    static Reply helloNeedsDomain(String verb) {
        return Reply.of(501, "5.5.4", verb + " requires domain/address - see RFC-2821 4.1.1.1");
    }

    // MAIL, RCPT
    static final Reply HELLO_FIRST = Reply.of(503, "5.5.1", "please say hello first ...");
    /** RFC 4954 6: the listener takes mail from authenticated clients only. */
    static final Reply AUTHENTICATION_REQUIRED = Reply.of(530, "5.7.0", "Authentication required");
    static final Reply SENDER_UNPARSABLE = Reply.of(501, "5.1.7", "could not parse your mail from command");
    static final Reply SIZE_SYNTAX = Reply.of(501, "5.5.4", "Syntax error in SIZE parameter");
    static final Reply SIZE_EXCEEDED = Reply.of(552, "5.3.4", "Message size exceeds fixed maximum message size");
    static final Reply MAIL_BEFORE_RCPT = Reply.of(503, "5.5.1", "Use MAIL before RCPT");
    static final Reply TOO_MANY_RECIPIENTS = Reply.of(452, "4.5.3", "Too many recipients");
    static final Reply RECIPIENT_UNPARSABLE = Reply.of(501, "5.1.3", "could not parse recipient");

    static Reply syntaxError(String reason) {
        return Reply.of(501, "5.5.2", reason);
    }

    static Reply unsupportedParameter(String name) {
        return Reply.of(555, "5.5.4", "Unsupported parameter " + name.toUpperCase(java.util.Locale.ROOT));
    }

    static Reply unsupportedBody(String body) {
        return Reply.of(501, "5.5.4", "Unsupported BODY type " + body);
    }

    /** With the text of the plugin that accepted, if it gave one (qpsmtpd's {@code $msg->[0] ||=}). */
    static final Rule SENDER_OK = new Rule(250, "2.1.0", "%s, sender OK - how exciting to get mail from you!", false);
    static final Rule RECIPIENT_OK = new Rule(250, "2.1.5", "%s, recipient ok", false);

    // DATA
    static final Reply DATA_ARGUMENTS = Reply.of(501, "5.5.4", "DATA takes no arguments");
    static final Reply MAIL_FIRST = Reply.of(503, "5.5.1", "MAIL first");
    static final Reply RCPT_FIRST = Reply.of(503, "5.5.1", "RCPT first");
    static final Rule GO_AHEAD = new Rule(354, null, "go ahead", false);
    static final Reply BARE_LINE_IN_DATA = Reply.of(554, "5.6.11",
            "Bare LF or CR in message data is not allowed (RFC 5321 2.3.8); message rejected");
    static final Reply MESSAGE_TOO_BIG = Reply.of(552, "5.3.4", "Message too big!");
    static final Reply HEADER_TOO_BIG = Reply.of(552, "5.3.4", "Message header too large");
    static final Reply MESSAGE_LINE_TOO_LONG = Reply.of(500, "5.5.2", "Message line too long");
    static final Rule QUEUED = new Rule(250, "2.0.0", "Queued", false);

    // NOOP, VRFY, HELP, QUIT
    static final Reply VRFY_DEFAULT = Reply.of(252, "2.0.0", "Just try sending a mail and we'll see how it turns out ...");
    static final List<String> HELP_TEXT = List.of("This is Postern, a plugin-driven SMTP server.",
            "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT");

    static Rule goodbye(String me) {
        return new Rule(221, "2.0.0", me + " closing connection. Have a wonderful day.", false);
    }

    // AUTH (RFC 4954)
    static final Reply STARTTLS_BEFORE_AUTH = Reply.of(530, "5.7.0", "Must issue a STARTTLS command first");
    static final Reply AUTH_AFTER_HELO = Reply.of(503, "5.5.1", "AUTH not defined for HELO");
    static final Reply AUTH_AGAIN = Reply.of(503, "5.5.1", "but you already said AUTH ...");
    static final Reply AUTH_IN_TRANSACTION = Reply.of(503, "5.5.1", "AUTH is not permitted during a mail transaction");
    static final Reply AUTH_SYNTAX = syntaxError("Syntax error in command");
    static final Reply AUTH_LINE_TOO_LONG = Reply.of(500, "5.5.6", "Authentication Exchange line is too long");

    static Reply unimplementedMechanism(String mechanism) {
        return Reply.of(504, "5.5.4", "Unimplemented authentication mechanism: " + mechanism);
    }

    static Reply authSucceeded(String mechanism, String user, String detail) {
        return Reply.of(235, "2.7.0", mechanism + " authentication successful for " + user + detail);
    }

    static Reply authFailedTemporarily(String mechanism, String user, String detail) {
        return Reply.of(454, "4.7.0", mechanism + " authentication failed temporarily for " + user + detail);
    }

    /** Never with the plugin's reason: it would tell a guesser which users exist. */
    static Reply authFailed(String mechanism, String user) {
        return Reply.of(535, "5.7.8", mechanism + " authentication failed for " + user);
    }

    // STARTTLS (RFC 3207)
    static final Reply TLS_ACTIVE = Reply.of(503, "5.5.1", "TLS already active");
    static final Reply STARTTLS_PARAMETERS = Reply.of(501, "5.5.4", "Syntax error (no parameters allowed)");
    static final Reply READY_FOR_TLS = Reply.of(220, "2.0.0", "Ready to start TLS");

    // Ending a session: each closes the connection
    static Decision idleTimeout(String me) {
        return new Decision(Reply.of(421, "4.4.2", me + " Timeout; closing connection"), true);
    }

    /** RFC 5321 3.8: a server that shuts down may answer any command, or none, with 421. */
    static Decision shuttingDown(String me) {
        return new Decision(Reply.of(421, "4.3.2", me + " Service shutting down, closing connection"), true);
    }

    static Reply pluginsTooSlow(String me) {
        return Reply.of(421, "4.4.2", me + " Timeout waiting for plugins; closing connection");
    }

    static Decision tooManyErrors(String me) {
        return new Decision(Reply.of(421, "4.7.0", me + " Too many errors, closing connection"), true);
    }

    static Decision tooManyAuthFailures(String me) {
        return new Decision(Reply.of(421, "4.7.0", me + " Too many failed authentication attempts from your address; try again later"), true);
    }

    /** What the client gets when a plugin failed at a deciding hook (the runner's configured failure). */
    static Decision pluginFailed(HookResult failure) {
        int code = failure.replyCode().orElse(451);
        return new Decision(new Reply(code, failure.enhancedStatus().orElse("4.3.0"), failure.message()), code == 421);
    }

    static Decision bareLineInData() {
        return new Decision(BARE_LINE_IN_DATA, true);
    }

    private static RuleSet rules(HookType hook) {
        return new RuleSet(TABLE.computeIfAbsent(hook, h -> new EnumMap<>(ReturnCode.class)));
    }

    private record RuleSet(Map<ReturnCode, Rule> rules) {
        RuleSet put(ReturnCode code, Rule rule) {
            rules.put(code, rule);
            return this;
        }
    }

    private static Rule reply(int code, String enhanced, String text) {
        return new Rule(code, enhanced, text, false);
    }

    private static Rule close(int code, String enhanced, String text) {
        return new Rule(code, enhanced, text, true);
    }

    /** The rules of one hook, for documentation and tests. */
    public static Map<ReturnCode, Rule> rulesOf(HookType hook) {
        return Map.copyOf(TABLE.getOrDefault(hook, Map.of()));
    }

    /**
     * Decides the reply to a hook's answer, or returns null when the command proceeds normally. A DONE that
     * carries its own reply code is sent as the plugin gave it.
     *
     * @param subject what {@code %s} in a default text stands for (an address), or null
     */
    public static Decision decide(HookType hook, HookResult answer, String subject) {
        if (answer.code() == DONE && answer.replyCode().isPresent()) {
            int code = answer.replyCode().get();
            if (!doneReplyAllowed(hook, code)) {
                LOG.error("a plugin answered DONE with reply code {} at {}, which cannot be sent there; answering {} instead",
                        code, hook.hookName(), INVALID_DONE.reply());
                return INVALID_DONE;
            }
            return new Decision(new Reply(code, answer.enhancedStatus().orElse(genericStatus(code)), answer.message()), code == 421);
        }
        Rule rule = TABLE.getOrDefault(hook, Map.of()).get(answer.code());
        if (rule == null) {
            return null;
        }
        Reply reply = replyFor(rule, answer, subject);
        // RFC 5321 3.8: 421 means the server is closing the connection, whichever hook gave it
        return new Decision(reply, rule.close() || reply.code() == 421);
    }

    /**
     * A plugin's own reply must be a final one (no 1xx or 3xx: the core would wait for lines the client will
     * not send), and at {@code queue} only OK says the message was queued: a 2xx there from DONE would be a
     * 250 for a message no plugin stored. A 2xx at {@code data} would make the client send its message as
     * commands. (A 2xx DONE at data_post is qpsmtpd's deliberate silent drop.)
     */
    private static boolean doneReplyAllowed(HookType hook, int code) {
        int kind = code / 100;
        if (code < 200 || code > 599 || kind == 3) {
            return false;
        }
        return kind != 2 || (hook != HookType.QUEUE && hook != HookType.DATA);
    }

    /** A reply from a rule, with the plugin's message, reply code and status code where it gave valid ones. */
    public static Reply replyFor(Rule rule, HookResult answer, String subject) {
        int code = answer.replyCode().filter(c -> c / 100 == rule.code() / 100).orElse(rule.code());
        String enhanced = answer.enhancedStatus().filter(s -> s.charAt(0) - '0' == code / 100).orElse(rule.enhancedStatus());
        List<String> lines = answer.message().isEmpty() || answer.message().stream().allMatch(String::isEmpty)
                ? List.of(subject == null ? rule.defaultText() : rule.defaultText().replace("%s", subject))
                : answer.message();
        return new Reply(code, enhanced, lines);
    }

    /** The RFC 3463 "other or undefined" status of a reply code's class; none for 1xx and 3xx replies. */
    public static String genericStatus(int code) {
        int kind = code / 100;
        return kind == 2 || kind == 4 || kind == 5 ? kind + ".0.0" : null;
    }
}
