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
     * 250 for a message no plugin stored. (A 2xx DONE at data_post is qpsmtpd's deliberate silent drop.)
     */
    private static boolean doneReplyAllowed(HookType hook, int code) {
        int kind = code / 100;
        if (code < 200 || code > 599 || kind == 3) {
            return false;
        }
        return kind != 2 || hook != HookType.QUEUE;
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
