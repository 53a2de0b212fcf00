package org.postern.smtp.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.smtp.client.Delivery.Outcome;
import org.postern.smtp.client.Delivery.RecipientResult;
import org.postern.smtp.client.Delivery.Stage;

class DeliveryTest {
    private static final Reply SAVED = Reply.of(250, "2.0.0", "Saved");
    private static final Reply UNKNOWN = Reply.of(550, "5.1.1", "User unknown");
    private static final Reply FULL = Reply.of(452, "4.2.2", "Mailbox full");

    @Test
    void theOutcomeSaysWhetherToRetryOrGiveUp() {
        assertEquals(Outcome.DELIVERED, new Delivery(Stage.END_OF_DATA, SAVED, List.of(new RecipientResult("a@x", SAVED, true))).outcome());
        assertEquals(Outcome.FAILED, new Delivery(Stage.END_OF_DATA, UNKNOWN, List.of(new RecipientResult("a@x", SAVED, true),
                new RecipientResult("b@x", UNKNOWN, false))).outcome());
        assertEquals(Outcome.RETRY, new Delivery(Stage.END_OF_DATA, FULL, List.of(new RecipientResult("a@x", FULL, false),
                new RecipientResult("b@x", UNKNOWN, false))).outcome());
        // a permanent refusal while setting up is no verdict on the message
        Reply badPassword = Reply.of(535, "5.7.8", "Authentication failed");
        assertEquals(Outcome.RETRY, new Delivery(Stage.AUTH, badPassword, List.of(new RecipientResult("a@x", badPassword, false))).outcome());
    }

    @Test
    void theSummaryNamesRecipientsOnlyWhenTheyFaredDifferently() {
        assertEquals("452 4.2.2 Mailbox full", new Delivery(Stage.MAIL, FULL, List.of(new RecipientResult("a@x", FULL, false),
                new RecipientResult("b@x", FULL, false))).summary());
        assertEquals("<b@x>: 550 5.1.1 User unknown; <c@x>: 452 4.2.2 Mailbox full", new Delivery(Stage.END_OF_DATA, FULL, List.of(
                new RecipientResult("a@x", SAVED, true), new RecipientResult("b@x", UNKNOWN, false), new RecipientResult("c@x", FULL, false)))
                .summary());
    }

    @Test
    void aFailurePassedOnAsTemporaryKeepsItsTextAndDetail() {
        assertEquals(FULL, FULL.asTransientFailure());
        assertEquals("451 4.1.1 User unknown", UNKNOWN.asTransientFailure().toString());
        assertEquals("451 4.3.2 Shutting down", Reply.of(421, "4.3.2", "Shutting down").asTransientFailure().toString());
        assertEquals("451 Busy", Reply.of(554, "", "Busy").asTransientFailure().toString());
    }
}
