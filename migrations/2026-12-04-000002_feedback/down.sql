DROP TABLE feedback_answers;
