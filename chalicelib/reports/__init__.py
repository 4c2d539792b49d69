"""Reports a contact-center manager runs the week on: figures, forecasts and staffing."""
