package org.postern.smtp.plugin.queue.smtpforward.internal;

import java.util.Locale;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.client.Delivery;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Reply;

/**
 * The smarthost's answer as the queue hook's: OK only when it took the message for every recipient. The message is
 * sent to all recipients or to none, as qpsmtpd does (its plugin stops at the first refused RCPT): after the 250
 * to the final dot Postern would owe a bounce for any recipient the smarthost refused (RFC 5321 6.1), and without
 * a queue of its own it cannot send one, so the client keeps the message and the refusal instead. A permanent
 * refusal of the message or of a recipient gives DENY with the smarthost's code; anything temporary, and any
 * failure before MAIL (connecting, TLS, AUTH: no fault of the message), gives DENYSOFT.
 */
final class Answers {
    private Answers() {
    }

    static HookResult forward(HookContext ctx, Destination to, Delivery delivery) {
        Reply reply = delivery.reply();
        if (delivery.outcome() == Delivery.Outcome.DELIVERED) {
            ctx.log(LogLevel.INFO, "queued at " + to.address() + ": " + reply);
            return HookResult.ok("queued as " + queueId(reply));
        }
        String why = delivery.summary();
        ctx.log(LogLevel.WARN, "not queued at " + to.address() + " (" + delivery.stage().name().toLowerCase(Locale.ROOT) + "): " + why);
        boolean permanent = delivery.outcome() == Delivery.Outcome.FAILED;
        Reply answer = permanent ? reply : reply.asTransientFailure();
        String text = "Unable to queue message (" + why + ")";
        HookResult result = (permanent ? HookResult.deny(text) : HookResult.denySoft(text)).withReplyCode(answer.code());
        return answer.enhancedStatus().isEmpty() ? result : result.withEnhancedStatus(answer.enhancedStatus());
    }

    /** The last word of the smarthost's reply, as qpsmtpd takes it: Postfix's "Ok: queued as 4Xk2" gives "4Xk2". */
    static String queueId(Reply reply) {
        String[] words = reply.text().strip().split("\\s+");
        return words[words.length - 1];
    }
}
