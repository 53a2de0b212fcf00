package org.postern.smtp.plugin.dontrequireanglebrackets.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.AddressPreContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.TestContext;

/** What the plugin makes of the address text at mail_pre and rcpt_pre, and what it costs the client. */
class DontRequireAnglebracketsTest {
    private final DontRequireAnglebrackets plugin = new DontRequireAnglebrackets();

    /** The context of mail_pre and rcpt_pre, which the test kit does not make. */
    private static final class AddressPre extends TestContext implements AddressPreContext {
        private final String address;

        AddressPre(String address) {
            this.address = address;
        }

        @Override
        public String address() {
            return address;
        }

        @Override
        public Map<String, String> parameters() {
            return Map.of();
        }
    }

    @Test
    void aBareSenderGetsBracketsAndCostsTwoKarma() {
        AddressPre ctx = new AddressPre("user@example.com");
        HookResult answer = plugin.onMailPre(ctx);
        assertEquals(ReturnCode.OK, answer.code());
        assertEquals(List.of("<user@example.com>"), answer.message());
        assertEquals(Optional.of(-2), ctx.session().notes().get(SharedNotes.KARMA));
        assertTrue(ctx.logged().contains("INFO fail, added MAIL angle brackets"), ctx.logged().toString());
    }

    @Test
    void aBareRecipientGetsBrackets() {
        AddressPre ctx = new AddressPre("postmaster");
        HookResult answer = plugin.onRcptPre(ctx);
        assertEquals(ReturnCode.OK, answer.code());
        assertEquals(List.of("<postmaster>"), answer.message());
        assertTrue(ctx.logged().contains("INFO fail, added RCPT angle brackets"), ctx.logged().toString());
    }

    @Test
    void eachBareAddressCostsKarmaAgain() {
        AddressPre ctx = new AddressPre("user@example.com");
        plugin.onMailPre(ctx);
        plugin.onRcptPre(ctx);
        assertEquals(Optional.of(-4), ctx.session().notes().get(SharedNotes.KARMA));
    }

    @Test
    void aBracketedAddressIsLeftAloneAndCostsNothing() {
        for (String address : List.of("<user@example.com>", "<>")) {
            AddressPre ctx = new AddressPre(address);
            assertEquals(ReturnCode.DECLINED, plugin.onMailPre(ctx).code(), address);
            assertEquals(ReturnCode.DECLINED, plugin.onRcptPre(ctx).code(), address);
            assertEquals(Optional.empty(), ctx.session().notes().get(SharedNotes.KARMA), address);
            assertEquals(List.of(), ctx.logged(), address);
        }
    }

    /** As qpsmtpd's /^<.*>$/: brackets on one side only are not brackets; the result is left for the core to refuse. */
    @Test
    void halfBracketedAddressesAreWrappedAsTheyAre() {
        assertEquals(List.of("<<user@example.com>"), plugin.onMailPre(new AddressPre("<user@example.com")).message());
        assertEquals(List.of("<user@example.com>>"), plugin.onRcptPre(new AddressPre("user@example.com>")).message());
    }
}
