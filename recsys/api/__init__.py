"""The REST layer of the recommender: thin views with input/output serializers."""
