import './base.css';
import './tune-form.css';
