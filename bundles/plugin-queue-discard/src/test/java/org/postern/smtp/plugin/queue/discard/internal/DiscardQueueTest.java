package org.postern.smtp.plugin.queue.discard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class DiscardQueueTest {
    @Test
    void answersOkSayingTheMessageWasDiscarded() {
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<a@example.org>").recipient("<b@example.org>").message("Subject: x\r\n\r\nbody\r\n");
        HookResult answer = new DiscardQueue().onQueue(ctx);
        assertEquals(ReturnCode.OK, answer.code());
        assertEquals(List.of("Discarded"), answer.message());
        assertEquals(List.of("DEBUG discarded 20 octets"), ctx.logged());
    }
}
